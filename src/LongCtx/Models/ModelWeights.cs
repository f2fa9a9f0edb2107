using LongCtx.Gguf;
using LongCtx.Tensors;

namespace LongCtx.Models;

/// <summary>A weight matrix viewed in place in the mapped file: <see cref="Rows"/> rows of <see cref="Cols"/> elements.</summary>
public readonly unsafe struct WeightMatrix
{
    /// <summary>Creates a view.</summary>
    public WeightMatrix(string name, GgmlType type, byte* data, int rows, int cols)
    {
        Name = name;
        Type = type;
        Data = data;
        Rows = rows;
        Cols = cols;
        RowBytes = (int)GgmlTypeInfo.RowSize(type, cols);
    }

    /// <summary>Tensor name in the file.</summary>
    public string Name { get; }
    /// <summary>Element type.</summary>
    public GgmlType Type { get; }
    /// <summary>First byte of the data.</summary>
    public byte* Data { get; }
    /// <summary>Output features.</summary>
    public int Rows { get; }
    /// <summary>Input features (ggml's ne0).</summary>
    public int Cols { get; }
    /// <summary>Bytes per row.</summary>
    public int RowBytes { get; }

    /// <summary>
    /// Whether llama.cpp's x86 CPU backend repacks this matrix into interleaved rows (Q4_0 and Q4_K
    /// with a multiple of 8 rows, except the token embedding, which it also reads row by row) and
    /// so sums its products in its repacked kernels' order; the matrix products follow it, so that
    /// both engines round alike.
    /// </summary>
    public bool Interleaved => Type is GgmlType.Q4_0 or GgmlType.Q4_K && Rows % 8 == 0 && Name != GgufTensorNames.TokenEmbedding;

    /// <summary>Dequantizes row <paramref name="row"/> into <paramref name="dst"/>.</summary>
    public void DequantizeRow(int row, Span<float> dst) =>
        Dequantize.Row(Type, new ReadOnlySpan<byte>(Data + (long)row * RowBytes, RowBytes), dst[..Cols]);
}

/// <summary>The weights of one transformer block.</summary>
public sealed class BlockWeights
{
    /// <summary>RMSNorm weight before attention [d].</summary>
    public required float[] AttnNorm { get; init; }
    /// <summary>Query projection [n_head·hd, d].</summary>
    public required WeightMatrix Q { get; init; }
    /// <summary>Key projection [n_kv·hd, d].</summary>
    public required WeightMatrix K { get; init; }
    /// <summary>Value projection [n_kv·hd_v, d].</summary>
    public required WeightMatrix V { get; init; }
    /// <summary>Query bias (Qwen2) or null.</summary>
    public float[]? QBias { get; init; }
    /// <summary>Key bias (Qwen2) or null.</summary>
    public float[]? KBias { get; init; }
    /// <summary>Value bias (Qwen2) or null.</summary>
    public float[]? VBias { get; init; }
    /// <summary>Per-head query RMSNorm weight [hd] (Qwen3) or null.</summary>
    public float[]? QNorm { get; init; }
    /// <summary>Per-head key RMSNorm weight [hd] (Qwen3) or null.</summary>
    public float[]? KNorm { get; init; }
    /// <summary>Attention output projection [d, n_head·hd_v].</summary>
    public required WeightMatrix Output { get; init; }
    /// <summary>RMSNorm weight before the feed-forward [d].</summary>
    public required float[] FfnNorm { get; init; }
    /// <summary>SwiGLU gate [ffn, d].</summary>
    public required WeightMatrix Gate { get; init; }
    /// <summary>SwiGLU up [ffn, d].</summary>
    public required WeightMatrix Up { get; init; }
    /// <summary>SwiGLU down [d, ffn].</summary>
    public required WeightMatrix Down { get; init; }
}

/// <summary>All weights of a Llama-family model, validated against its <see cref="ModelConfig"/>.</summary>
public sealed class ModelWeights
{
    /// <summary>Token embedding [d, vocab] (one row per token).</summary>
    public required WeightMatrix TokenEmbedding { get; init; }
    /// <summary>Final RMSNorm weight [d].</summary>
    public required float[] OutputNorm { get; init; }
    /// <summary>Output projection [vocab, d]; the token embedding when tied.</summary>
    public required WeightMatrix Output { get; init; }
    /// <summary>Per-frequency divisors for llama3 RoPE scaling [n_rot/2], or null.</summary>
    public float[]? RopeFreqFactors { get; init; }
    /// <summary>The transformer blocks.</summary>
    public required BlockWeights[] Blocks { get; init; }

    /// <summary>Binds and validates every tensor the architecture needs.</summary>
    /// <exception cref="GgufFormatException">A tensor is missing, has the wrong shape, or an unsupported type.</exception>
    public static ModelWeights Load(GgufFile file, ModelConfig c)
    {
        var binder = new Binder(file);
        int d = c.EmbeddingLength, hd = c.HeadDim, hdv = c.ValueHeadDim;
        var blocks = new BlockWeights[c.BlockCount];
        for (int i = 0; i < blocks.Length; i++)
        {
            string N(string pattern) => GgufTensorNames.ForBlock(pattern, i);
            bool bias = c.Architecture.QkvBias, qkNorm = c.Architecture.QkNorm;
            blocks[i] = new BlockWeights
            {
                AttnNorm = binder.Vector(N(GgufTensorNames.AttnNorm), d),
                Q = binder.Matrix(N(GgufTensorNames.AttnQ), c.HeadCount * hd, d),
                K = binder.Matrix(N(GgufTensorNames.AttnK), c.HeadCountKv * hd, d),
                V = binder.Matrix(N(GgufTensorNames.AttnV), c.HeadCountKv * hdv, d),
                QBias = bias ? binder.Vector(N(GgufTensorNames.AttnQBias), c.HeadCount * hd) : binder.OptionalVector(N(GgufTensorNames.AttnQBias), c.HeadCount * hd),
                KBias = bias ? binder.Vector(N(GgufTensorNames.AttnKBias), c.HeadCountKv * hd) : binder.OptionalVector(N(GgufTensorNames.AttnKBias), c.HeadCountKv * hd),
                VBias = bias ? binder.Vector(N(GgufTensorNames.AttnVBias), c.HeadCountKv * hdv) : binder.OptionalVector(N(GgufTensorNames.AttnVBias), c.HeadCountKv * hdv),
                QNorm = qkNorm ? binder.Vector(N(GgufTensorNames.AttnQNorm), hd) : null,
                KNorm = qkNorm ? binder.Vector(N(GgufTensorNames.AttnKNorm), hd) : null,
                Output = binder.Matrix(N(GgufTensorNames.AttnOutput), d, c.HeadCount * hdv),
                FfnNorm = binder.Vector(N(GgufTensorNames.FfnNorm), d),
                Gate = binder.Matrix(N(GgufTensorNames.FfnGate), c.FeedForwardLength, d),
                Up = binder.Matrix(N(GgufTensorNames.FfnUp), c.FeedForwardLength, d),
                Down = binder.Matrix(N(GgufTensorNames.FfnDown), d, c.FeedForwardLength),
            };
        }
        WeightMatrix embedding = binder.Matrix(GgufTensorNames.TokenEmbedding, c.VocabSize, d);
        return new ModelWeights
        {
            TokenEmbedding = embedding,
            OutputNorm = binder.Vector(GgufTensorNames.OutputNorm, d),
            // Tied embeddings: without output.weight the logits reuse token_embd (as llama.cpp does).
            Output = file.FindTensor(GgufTensorNames.Output) != null
                ? binder.Matrix(GgufTensorNames.Output, c.VocabSize, d) : embedding,
            RopeFreqFactors = binder.OptionalVector(GgufTensorNames.RopeFreqs, c.RopeDimensions / 2),
            Blocks = blocks,
        };
    }

    private sealed unsafe class Binder(GgufFile file)
    {
        public WeightMatrix Matrix(string name, int rows, int cols)
        {
            GgufTensorInfo t = file.GetTensor(name);
            if (t.Shape.Length != 2 || t.Shape[0] != cols || t.Shape[1] != rows)
            {
                throw new GgufFormatException(file.FilePath, $"tensor '{name}' has shape {t.ShapeText}, expected [{cols}, {rows}]");
            }
            RequireSupported(t);
            return new WeightMatrix(name, t.Type, file.TensorData(t), rows, cols);
        }

        public float[] Vector(string name, int length) => OptionalVector(name, length)
            ?? throw new GgufFormatException(file.FilePath, $"required tensor '{name}' is missing");

        public float[]? OptionalVector(string name, int length)
        {
            GgufTensorInfo? t = file.FindTensor(name);
            if (t == null)
            {
                return null;
            }
            if (t.ElementCount != length || t.Shape[0] != length)
            {
                throw new GgufFormatException(file.FilePath, $"tensor '{name}' has shape {t.ShapeText}, expected [{length}]");
            }
            RequireSupported(t);
            var values = new float[length];
            Dequantize.Row(t.Type, file.TensorBytes(t), values);
            return values;
        }

        private void RequireSupported(GgufTensorInfo t)
        {
            if (!GgmlTypeInfo.IsSupported(t.Type))
            {
                throw new GgufFormatException(file.FilePath,
                    $"tensor '{t.Name}' has type {GgmlTypeInfo.Name(t.Type)}, which LongCtx does not support yet (supported: f32, f16, bf16, q8_0, q4_0, q4_K, q5_K, q6_K)");
            }
        }
    }
}
