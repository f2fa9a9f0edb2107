using LongCtx.Gguf;

namespace LongCtx.Models;

/// <summary>How RoPE pairs the dimensions of a head.</summary>
public enum RopeStyle
{
    /// <summary>Adjacent pairs (2i, 2i+1): llama.cpp's LLAMA_ROPE_TYPE_NORM, used by <c>llama</c>.</summary>
    Normal,
    /// <summary>Halves (i, i + n_rot/2): llama.cpp's LLAMA_ROPE_TYPE_NEOX, used by <c>qwen2</c>, <c>qwen3</c>.</summary>
    NeoX,
}

/// <summary>The features of one architecture family that change the forward pass.</summary>
/// <param name="Name">GGUF <c>general.architecture</c> value.</param>
/// <param name="Rope">RoPE pairing.</param>
/// <param name="QkvBias">Q, K and V projections carry a bias (Qwen2).</param>
/// <param name="QkNorm">Per-head RMSNorm on Q and K before RoPE (Qwen3).</param>
public sealed record Architecture(string Name, RopeStyle Rope, bool QkvBias, bool QkNorm)
{
    /// <summary>Llama 2/3.x, Mistral, SmolLM, TinyLlama.</summary>
    public static readonly Architecture Llama = new("llama", RopeStyle.Normal, QkvBias: false, QkNorm: false);
    /// <summary>Qwen2 and Qwen2.5.</summary>
    public static readonly Architecture Qwen2 = new("qwen2", RopeStyle.NeoX, QkvBias: true, QkNorm: false);
    /// <summary>Qwen3 dense models.</summary>
    public static readonly Architecture Qwen3 = new("qwen3", RopeStyle.NeoX, QkvBias: false, QkNorm: true);

    /// <summary>Every architecture LongCtx runs.</summary>
    public static IReadOnlyList<Architecture> All { get; } = [Llama, Qwen2, Qwen3];

    /// <summary>Finds an architecture by its GGUF name; null when unsupported.</summary>
    public static Architecture? Find(string name)
    {
        foreach (Architecture a in All)
        {
            if (a.Name == name)
            {
                return a;
            }
        }
        return null;
    }
}

/// <summary>Hyper-parameters of a Llama-family model, read from GGUF metadata.</summary>
public sealed record ModelConfig
{
    /// <summary>Architecture family.</summary>
    public required Architecture Architecture { get; init; }
    /// <summary>Vocabulary size (rows of the token embedding).</summary>
    public required int VocabSize { get; init; }
    /// <summary>Context length the model was trained for.</summary>
    public required int ContextLength { get; init; }
    /// <summary>Width of the residual stream (d_model).</summary>
    public required int EmbeddingLength { get; init; }
    /// <summary>Number of transformer blocks.</summary>
    public required int BlockCount { get; init; }
    /// <summary>Hidden width of the SwiGLU feed-forward.</summary>
    public required int FeedForwardLength { get; init; }
    /// <summary>Query heads.</summary>
    public required int HeadCount { get; init; }
    /// <summary>Key/value heads (grouped-query attention when fewer than <see cref="HeadCount"/>).</summary>
    public required int HeadCountKv { get; init; }
    /// <summary>Dimension of each query/key head.</summary>
    public required int HeadDim { get; init; }
    /// <summary>Dimension of each value head.</summary>
    public required int ValueHeadDim { get; init; }
    /// <summary>RMSNorm epsilon.</summary>
    public required float RmsEpsilon { get; init; }
    /// <summary>Number of rotated dimensions per head (n_rot).</summary>
    public required int RopeDimensions { get; init; }
    /// <summary>RoPE base frequency θ.</summary>
    public required float RopeFreqBase { get; init; }
    /// <summary>RoPE linear position scale (1 / scaling factor; 1 when unscaled).</summary>
    public required float RopeFreqScale { get; init; }

    /// <summary>Query heads that share one KV head.</summary>
    public int KvGroup => HeadCount / HeadCountKv;

    /// <summary>Reads the hyper-parameters of <paramref name="file"/>.</summary>
    /// <exception cref="GgufFormatException">Unknown architecture, missing key, or inconsistent values; the message names the file and key.</exception>
    public static ModelConfig FromGguf(GgufFile file)
    {
        string archName = file.Architecture;
        Architecture arch = Architecture.Find(archName) ?? throw new GgufFormatException(file.FilePath,
            $"unknown architecture '{archName}' ({GgufKeys.Architecture}); LongCtx runs: {string.Join(", ", Architecture.All.Select(a => a.Name))}");
        string Key(string k) => GgufKeys.ForArch(k, archName);

        int embd = Positive(file, Key(GgufKeys.EmbeddingLength), PerLayerScalar(file, Key(GgufKeys.EmbeddingLength)));
        int heads = Positive(file, Key(GgufKeys.HeadCount), PerLayerScalar(file, Key(GgufKeys.HeadCount)));
        int headsKv = file.Contains(Key(GgufKeys.HeadCountKv))
            ? Positive(file, Key(GgufKeys.HeadCountKv), PerLayerScalar(file, Key(GgufKeys.HeadCountKv))) : heads;
        if (heads % headsKv != 0)
        {
            throw new GgufFormatException(file.FilePath,
                $"'{Key(GgufKeys.HeadCount)}' = {heads} is not a multiple of '{Key(GgufKeys.HeadCountKv)}' = {headsKv}");
        }
        if (!file.Contains(Key(GgufKeys.KeyLength)) && embd % heads != 0)
        {
            throw new GgufFormatException(file.FilePath,
                $"'{Key(GgufKeys.EmbeddingLength)}' = {embd} is not a multiple of '{Key(GgufKeys.HeadCount)}' = {heads}");
        }
        int headDim = (int)file.GetUInt32(Key(GgufKeys.KeyLength), (uint)(embd / heads));
        int valueDim = (int)file.GetUInt32(Key(GgufKeys.ValueLength), (uint)headDim);
        int ropeDims = (int)file.GetUInt32(Key(GgufKeys.RopeDimensionCount), (uint)headDim);
        if (ropeDims > headDim || ropeDims % 2 != 0)
        {
            throw new GgufFormatException(file.FilePath,
                $"'{Key(GgufKeys.RopeDimensionCount)}' = {ropeDims} must be even and at most the head dimension {headDim}");
        }

        float freqScale = 1f;
        string scaling = file.GetStringOrNull(Key(GgufKeys.RopeScalingType)) ?? "none";
        switch (scaling)
        {
            case "none":
                break;
            case "linear":
                float factor = file.GetFloat32(Key(GgufKeys.RopeScalingFactor), 1f);
                freqScale = factor > 0 ? 1f / factor : 1f;
                break;
            default:
                throw new GgufFormatException(file.FilePath,
                    $"'{Key(GgufKeys.RopeScalingType)}' = '{scaling}' is not supported (supported: none, linear; llama3 scaling comes as the rope_freqs tensor)");
        }

        GgufTensorInfo embedding = file.GetTensor(GgufTensorNames.TokenEmbedding);
        int vocab = checked((int)embedding.Shape[^1]);
        if (embedding.Shape[0] != embd)
        {
            throw new GgufFormatException(file.FilePath,
                $"tensor '{GgufTensorNames.TokenEmbedding}' has shape {embedding.ShapeText}, expected [{embd}, n_vocab]");
        }

        return new ModelConfig
        {
            Architecture = arch,
            VocabSize = vocab,
            ContextLength = Positive(file, Key(GgufKeys.ContextLength), file.GetUInt32(Key(GgufKeys.ContextLength))),
            EmbeddingLength = embd,
            BlockCount = Positive(file, Key(GgufKeys.BlockCount), file.GetUInt32(Key(GgufKeys.BlockCount))),
            FeedForwardLength = Positive(file, Key(GgufKeys.FeedForwardLength), PerLayerScalar(file, Key(GgufKeys.FeedForwardLength))),
            HeadCount = heads,
            HeadCountKv = headsKv,
            HeadDim = headDim,
            ValueHeadDim = valueDim,
            RmsEpsilon = file.GetFloat32(Key(GgufKeys.RmsEpsilon)),
            RopeDimensions = ropeDims,
            RopeFreqBase = file.GetFloat32(Key(GgufKeys.RopeFreqBase), 10000f),
            RopeFreqScale = freqScale,
        };
    }

    /// <summary>A hyper-parameter stored either as a scalar or as one equal value per layer.</summary>
    private static uint PerLayerScalar(GgufFile file, string key)
    {
        GgufValue value = file.Get(key);
        if (!value.IsArray)
        {
            return file.GetUInt32(key);
        }
        if (value.Value is not (int[] or uint[]))
        {
            throw new GgufFormatException(file.FilePath, $"metadata key '{key}' should be an integer or an array of integers");
        }
        uint[] values = value.Value as uint[] ?? Array.ConvertAll((int[])value.Value, v => (uint)v);
        foreach (uint v in values)
        {
            if (v != values[0])
            {
                throw new GgufFormatException(file.FilePath, $"metadata key '{key}' varies per layer, which LongCtx does not support");
            }
        }
        return values.Length > 0 ? values[0] : throw new GgufFormatException(file.FilePath, $"metadata key '{key}' is an empty array");
    }

    private static int Positive(GgufFile file, string key, uint value) =>
        value is > 0 and <= int.MaxValue ? (int)value
            : throw new GgufFormatException(file.FilePath, $"metadata key '{key}' = {value} must be positive");
}
