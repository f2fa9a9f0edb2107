namespace LongCtx.Train.Model;

/// <summary>
/// Hyper-parameters of the trained Llama: RMSNorm, RoPE (adjacent pairs, as llama.cpp's <c>llama</c>
/// architecture), SwiGLU, grouped-query attention, embeddings tied to the output.
/// </summary>
internal sealed record ModelShape
{
    /// <summary>Vocabulary size (rows of the tied embedding).</summary>
    public int Vocab { get; init; } = 4096;
    /// <summary>Residual width d.</summary>
    public int Dim { get; init; } = 256;
    /// <summary>Transformer blocks.</summary>
    public int Layers { get; init; } = 6;
    /// <summary>Query heads.</summary>
    public int Heads { get; init; } = 8;
    /// <summary>Key/value heads (fewer than <see cref="Heads"/>: grouped-query attention).</summary>
    public int KvHeads { get; init; } = 2;
    /// <summary>SwiGLU hidden width.</summary>
    public int Ffn { get; init; } = 704;
    /// <summary>RoPE base; large so that positions thousands apart stay distinguishable (Llama 3 uses 500000).</summary>
    public float RopeBase { get; init; } = 500000f;
    /// <summary>RMSNorm epsilon.</summary>
    public float RmsEps { get; init; } = 1e-5f;
    /// <summary>Context length written to the GGUF.</summary>
    public int ContextLength { get; init; } = 8192;

    /// <summary>Head dimension d / heads.</summary>
    public int HeadDim => Dim / Heads;

    /// <summary>Throws when the shape is inconsistent.</summary>
    /// <exception cref="ArgumentException">Names the field and the rule it breaks.</exception>
    public void Validate()
    {
        if (Vocab < 2 || Dim < 1 || Layers < 1 || Heads < 1 || KvHeads < 1 || Ffn < 1 || ContextLength < 1)
            throw new ArgumentException($"model shape has a non-positive size: {this}");
        if (Dim % Heads != 0) throw new ArgumentException($"model dim {Dim} is not a multiple of heads {Heads}");
        if (Heads % KvHeads != 0) throw new ArgumentException($"heads {Heads} is not a multiple of kvHeads {KvHeads}");
        if (HeadDim % 2 != 0) throw new ArgumentException($"head dimension {HeadDim} must be even for RoPE");
        if (!(RopeBase > 1f)) throw new ArgumentException($"ropeBase {RopeBase} must be > 1");
    }
}

/// <summary>One parameter tensor inside the flat parameter vector; [Rows, Cols] row-major, which is ggml's [Cols, Rows].</summary>
/// <param name="Name">GGUF tensor name.</param>
/// <param name="Offset">First element in the flat vector.</param>
/// <param name="Rows">Rows (output features of a matrix; 1 for a vector).</param>
/// <param name="Cols">Columns (input features).</param>
/// <param name="Decay">Whether AdamW's weight decay applies (matrices and the embedding, not norm gains).</param>
internal readonly record struct ParamTensor(string Name, long Offset, int Rows, int Cols, bool Decay)
{
    /// <summary>Element count.</summary>
    public int Length => Rows * Cols;
}

/// <summary>Where each tensor of a <see cref="ModelShape"/> lives in the flat parameter vector.</summary>
internal sealed class ParamLayout
{
    public ParamLayout(ModelShape shape)
    {
        shape.Validate();
        Shape = shape;
        int d = shape.Dim, nq = shape.Heads * shape.HeadDim, nkv = shape.KvHeads * shape.HeadDim;
        Embedding = Add(Gguf.GgufTensorNames.TokenEmbedding, shape.Vocab, d, true);
        Blocks = new BlockParams[shape.Layers];
        for (int l = 0; l < shape.Layers; l++)
        {
            string N(string pattern) => Gguf.GgufTensorNames.ForBlock(pattern, l);
            Blocks[l] = new BlockParams(
                AttnNorm: Add(N(Gguf.GgufTensorNames.AttnNorm), 1, d, false),
                Wq: Add(N(Gguf.GgufTensorNames.AttnQ), nq, d, true),
                Wk: Add(N(Gguf.GgufTensorNames.AttnK), nkv, d, true),
                Wv: Add(N(Gguf.GgufTensorNames.AttnV), nkv, d, true),
                Wo: Add(N(Gguf.GgufTensorNames.AttnOutput), d, nq, true),
                FfnNorm: Add(N(Gguf.GgufTensorNames.FfnNorm), 1, d, false),
                Wgate: Add(N(Gguf.GgufTensorNames.FfnGate), shape.Ffn, d, true),
                Wup: Add(N(Gguf.GgufTensorNames.FfnUp), shape.Ffn, d, true),
                Wdown: Add(N(Gguf.GgufTensorNames.FfnDown), d, shape.Ffn, true));
        }
        OutputNorm = Add(Gguf.GgufTensorNames.OutputNorm, 1, d, false);
    }

    public ModelShape Shape { get; }
    public ParamTensor Embedding { get; }
    public BlockParams[] Blocks { get; }
    public ParamTensor OutputNorm { get; }
    /// <summary>Every tensor in vector order.</summary>
    public List<ParamTensor> All { get; } = [];
    /// <summary>Total parameters.</summary>
    public long Count { get; private set; }

    private ParamTensor Add(string name, int rows, int cols, bool decay)
    {
        var t = new ParamTensor(name, Count, rows, cols, decay);
        All.Add(t);
        Count += t.Length;
        return t;
    }
}

/// <summary>The tensors of one transformer block.</summary>
internal readonly record struct BlockParams(ParamTensor AttnNorm, ParamTensor Wq, ParamTensor Wk, ParamTensor Wv, ParamTensor Wo,
    ParamTensor FfnNorm, ParamTensor Wgate, ParamTensor Wup, ParamTensor Wdown);
