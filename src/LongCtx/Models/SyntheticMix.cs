using LongCtx.Tensors;

namespace LongCtx.Models;

/// <summary>Where a 2-D weight sits in the model, which is what llama.cpp's quantization mixes decide by.</summary>
public enum TensorRole
{
    /// <summary>token_embd.</summary>
    TokenEmbedding,
    /// <summary>output (the logits), or token_embd when the embeddings are tied.</summary>
    Output,
    /// <summary>attn_q.</summary>
    AttnQ,
    /// <summary>attn_k.</summary>
    AttnK,
    /// <summary>attn_v.</summary>
    AttnV,
    /// <summary>attn_output.</summary>
    AttnOutput,
    /// <summary>ffn_gate.</summary>
    FfnGate,
    /// <summary>ffn_up.</summary>
    FfnUp,
    /// <summary>ffn_down.</summary>
    FfnDown,
}

/// <summary>
/// The weight types of a synthetic model: one type for every 2-D weight, or llama.cpp's Q4_K_M
/// mix (llama-quant.cpp, dense non-Falcon models): Q6_K for the output and for attn_v and
/// ffn_down in the layers use_more_bits picks, Q4_K elsewhere, and llama.cpp's fallbacks where a
/// row is not whole 256-blocks (Q4_K → Q5_0, Q6_K → Q8_0), as in real Qwen2.5-0.5B Q4_K_M files.
/// </summary>
public sealed class SyntheticMix
{
    private readonly GgmlType? _uniform;

    private SyntheticMix(string name, GgmlType? uniform)
    {
        Name = name;
        _uniform = uniform;
    }

    /// <summary>The name used on the command line and in file names.</summary>
    public string Name { get; }

    /// <summary>Every accepted name.</summary>
    public static IReadOnlyList<string> Names { get; } = ["f32", "f16", "bf16", "q8_0", "q4_0", "q5_0", "q4_k", "q5_k", "q6_k", "q4_k_m"];

    /// <summary>One type for every 2-D weight.</summary>
    public static SyntheticMix Uniform(GgmlType type) => new(GgmlTypeInfo.Name(type).ToLowerInvariant(), type);

    /// <summary>llama.cpp's Q4_K_M.</summary>
    public static SyntheticMix Q4_K_M { get; } = new("q4_k_m", null);

    /// <summary>Parses a mix name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Unknown name or unsupported type.</exception>
    public static SyntheticMix Parse(string name)
    {
        if (name.Equals("q4_k_m", StringComparison.OrdinalIgnoreCase))
        {
            return Q4_K_M;
        }
        GgmlType t = GgmlTypeInfo.Parse(name);
        return GgmlTypeInfo.IsSupported(t) ? Uniform(t) : throw new ArgumentException($"type '{name}' is not supported for weights (one of {string.Join(", ", Names)})");
    }

    /// <summary>The type of a weight with <paramref name="cols"/> columns in block <paramref name="layer"/> of <paramref name="layers"/>.</summary>
    public GgmlType TypeOf(TensorRole role, int layer, int layers, int cols)
    {
        if (_uniform is GgmlType t)
        {
            return t;
        }
        GgmlType wanted = role switch
        {
            TensorRole.Output => GgmlType.Q6_K,
            TensorRole.AttnV or TensorRole.FfnDown when UseMoreBits(layer, layers) => GgmlType.Q6_K,
            _ => GgmlType.Q4_K,
        };
        if (cols % 256 == 0)
        {
            return wanted;
        }
        // tensor_type_fallback: a 256-block type on rows that are not whole blocks.
        return wanted == GgmlType.Q6_K ? GgmlType.Q8_0 : GgmlType.Q5_0;
    }

    /// <summary>llama-quant.cpp's use_more_bits: the first and last eighth of the layers and every third between.</summary>
    private static bool UseMoreBits(int layer, int layers) => layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
}
