using LongCtx.Gguf;
using LongCtx.Tensors;

namespace LongCtx.Models;

/// <summary>The shape of a random-weight model (what speed and correctness tests need; values do not matter).</summary>
public sealed record SyntheticShape
{
    /// <summary>GGUF architecture name: llama, qwen2 or qwen3.</summary>
    public string Architecture { get; init; } = "llama";
    /// <summary>Vocabulary size (at least 260: 256 byte tokens, specials and merges).</summary>
    public int VocabSize { get; init; } = 512;
    /// <summary>Residual width.</summary>
    public int EmbeddingLength { get; init; } = 256;
    /// <summary>Transformer blocks.</summary>
    public int BlockCount { get; init; } = 2;
    /// <summary>Query heads.</summary>
    public int HeadCount { get; init; } = 4;
    /// <summary>KV heads.</summary>
    public int HeadCountKv { get; init; } = 2;
    /// <summary>Head dimension; 0 = embedding / heads.</summary>
    public int HeadDim { get; init; }
    /// <summary>Feed-forward width.</summary>
    public int FeedForwardLength { get; init; } = 512;
    /// <summary>Trained context length written to the metadata.</summary>
    public int ContextLength { get; init; } = 4096;
    /// <summary>RoPE base.</summary>
    public float RopeFreqBase { get; init; } = 10000f;
    /// <summary>RMSNorm epsilon.</summary>
    public float RmsEpsilon { get; init; } = 1e-5f;
    /// <summary>Omit output.weight so the logits reuse the token embedding.</summary>
    public bool TiedEmbeddings { get; init; }
    /// <summary>Write a llama3-style rope_freqs tensor (per-frequency divisors).</summary>
    public bool Llama3RopeFreqs { get; init; }

    /// <summary>Shapes of real models, for benchmarks (<c>longctx bench --synthetic NAME:TYPE</c>).</summary>
    public static IReadOnlyDictionary<string, SyntheticShape> Known { get; } = new Dictionary<string, SyntheticShape>
    {
        ["qwen2.5-0.5b"] = new() { Architecture = "qwen2", VocabSize = 151936, EmbeddingLength = 896, BlockCount = 24, HeadCount = 14, HeadCountKv = 2, FeedForwardLength = 4864, ContextLength = 32768, RopeFreqBase = 1000000f, RmsEpsilon = 1e-6f, TiedEmbeddings = true },
        ["llama-3.2-1b"] = new() { Architecture = "llama", VocabSize = 128256, EmbeddingLength = 2048, BlockCount = 16, HeadCount = 32, HeadCountKv = 8, FeedForwardLength = 8192, ContextLength = 131072, RopeFreqBase = 500000f, TiedEmbeddings = true, Llama3RopeFreqs = true },
        ["smollm2-135m"] = new() { Architecture = "llama", VocabSize = 49152, EmbeddingLength = 576, BlockCount = 30, HeadCount = 9, HeadCountKv = 3, FeedForwardLength = 1536, ContextLength = 8192, RopeFreqBase = 100000f, TiedEmbeddings = true },
    };
}

/// <summary>
/// Writes random-weight GGUF models of a given shape and weight type, with a valid byte-level BPE
/// vocabulary, which LongCtx and llama.cpp both load. Used by differential tests and benchmarks.
/// </summary>
public static class SyntheticModel
{
    /// <summary>Writes a model to <paramref name="path"/>. Same seed, same file.</summary>
    /// <param name="path">Output file.</param>
    /// <param name="shape">Hyper-parameters.</param>
    /// <param name="type">Type of the 2-D weights (norms and biases stay F32).</param>
    /// <param name="seed">Random seed.</param>
    public static void Write(string path, SyntheticShape shape, GgmlType type, int seed = 1234) =>
        Write(path, shape, SyntheticMix.Uniform(type), seed);

    /// <summary>Writes a model whose weight types follow <paramref name="mix"/>. Same seed, same file.</summary>
    /// <param name="path">Output file.</param>
    /// <param name="shape">Hyper-parameters.</param>
    /// <param name="mix">The type of each 2-D weight (norms and biases stay F32).</param>
    /// <param name="seed">Random seed.</param>
    public static void Write(string path, SyntheticShape shape, SyntheticMix mix, int seed = 1234)
    {
        var rng = new Random(seed);
        string arch = shape.Architecture;
        Architecture features = Architecture.Find(arch) ?? throw new ArgumentException($"unknown architecture '{arch}'", nameof(shape));
        int d = shape.EmbeddingLength, hd = shape.HeadDim > 0 ? shape.HeadDim : d / shape.HeadCount;
        int nq = shape.HeadCount * hd, nkv = shape.HeadCountKv * hd;
        var w = new GgufWriter();
        string K(string key) => GgufKeys.ForArch(key, arch);
        w.Add(GgufKeys.Architecture, arch)
         .Add(GgufKeys.Name, $"synthetic-{arch}-{mix.Name}")
         .Add(K(GgufKeys.ContextLength), (uint)shape.ContextLength)
         .Add(K(GgufKeys.EmbeddingLength), (uint)d)
         .Add(K(GgufKeys.BlockCount), (uint)shape.BlockCount)
         .Add(K(GgufKeys.FeedForwardLength), (uint)shape.FeedForwardLength)
         .Add(K(GgufKeys.HeadCount), (uint)shape.HeadCount)
         .Add(K(GgufKeys.HeadCountKv), (uint)shape.HeadCountKv)
         .Add(K(GgufKeys.RopeFreqBase), shape.RopeFreqBase)
         .Add(K(GgufKeys.RmsEpsilon), shape.RmsEpsilon);
        if (hd != d / shape.HeadCount)
        {
            w.Add(K(GgufKeys.KeyLength), (uint)hd).Add(K(GgufKeys.ValueLength), (uint)hd);
        }
        AddVocabulary(w, shape.VocabSize, rng);

        void Matrix(string name, TensorRole role, int layer, int rows, int cols, float scale)
        {
            var values = new float[(long)rows * cols];
            Fill(values, rng, scale);
            w.AddTensor(name, mix.TypeOf(role, layer, shape.BlockCount, cols), [cols, rows], values);
        }
        void Vector(string name, int length, float center, float spread)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++)
            {
                values[i] = center + spread * (float)(rng.NextDouble() * 2 - 1);
            }
            w.AddTensor(name, GgmlType.F32, [length], values);
        }

        Matrix(GgufTensorNames.TokenEmbedding, shape.TiedEmbeddings ? TensorRole.Output : TensorRole.TokenEmbedding, 0, shape.VocabSize, d, 1f);
        Vector(GgufTensorNames.OutputNorm, d, 1f, 0.2f);
        if (!shape.TiedEmbeddings)
        {
            Matrix(GgufTensorNames.Output, TensorRole.Output, 0, shape.VocabSize, d, 1f / MathF.Sqrt(d) * 4f);
        }
        if (shape.Llama3RopeFreqs)
        {
            w.AddTensor(GgufTensorNames.RopeFreqs, GgmlType.F32, [hd / 2], Llama3FreqFactors(hd, shape.RopeFreqBase));
        }
        // Scales like a trained network's, not a chaotic one's: attention scores of unit variance,
        // and sub-layer updates that are small next to the residual stream, so that last-ulp
        // differences between two correct engines do not grow exponentially with depth.
        float attnScale = 1f / MathF.Sqrt(d), ffnScale = 1f / MathF.Sqrt(shape.FeedForwardLength);
        float update = 1f / MathF.Sqrt(2f * shape.BlockCount);
        for (int i = 0; i < shape.BlockCount; i++)
        {
            string N(string pattern) => GgufTensorNames.ForBlock(pattern, i);
            Vector(N(GgufTensorNames.AttnNorm), d, 1f, 0.2f);
            Matrix(N(GgufTensorNames.AttnQ), TensorRole.AttnQ, i, nq, d, attnScale * MathF.Sqrt(MathF.Sqrt(hd)));
            Matrix(N(GgufTensorNames.AttnK), TensorRole.AttnK, i, nkv, d, attnScale * MathF.Sqrt(MathF.Sqrt(hd)));
            Matrix(N(GgufTensorNames.AttnV), TensorRole.AttnV, i, nkv, d, attnScale);
            if (features.QkvBias)
            {
                Vector(N(GgufTensorNames.AttnQBias), nq, 0f, 0.5f);
                Vector(N(GgufTensorNames.AttnKBias), nkv, 0f, 0.5f);
                Vector(N(GgufTensorNames.AttnVBias), nkv, 0f, 0.1f);
            }
            if (features.QkNorm)
            {
                Vector(N(GgufTensorNames.AttnQNorm), hd, 1f, 0.2f);
                Vector(N(GgufTensorNames.AttnKNorm), hd, 1f, 0.2f);
            }
            Matrix(N(GgufTensorNames.AttnOutput), TensorRole.AttnOutput, i, d, nq, update / MathF.Sqrt(nq));
            Vector(N(GgufTensorNames.FfnNorm), d, 1f, 0.2f);
            Matrix(N(GgufTensorNames.FfnGate), TensorRole.FfnGate, i, shape.FeedForwardLength, d, attnScale);
            Matrix(N(GgufTensorNames.FfnUp), TensorRole.FfnUp, i, shape.FeedForwardLength, d, attnScale);
            Matrix(N(GgufTensorNames.FfnDown), TensorRole.FfnDown, i, d, shape.FeedForwardLength, update * ffnScale);
        }
        w.Write(path);
    }

    /// <summary>Uniform values in [-scale·√3, scale·√3] (standard deviation <paramref name="scale"/>).</summary>
    private static void Fill(Span<float> values, Random rng, float scale)
    {
        float a = scale * MathF.Sqrt(3f);
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = a * (float)(rng.NextDouble() * 2 - 1);
        }
    }

    /// <summary>Llama 3.1's RoPE frequency divisors (factor 8, low 1, high 4, original context 8192).</summary>
    private static float[] Llama3FreqFactors(int headDim, float freqBase)
    {
        const float factor = 8f, lowFreqFactor = 1f, highFreqFactor = 4f, originalContext = 8192f;
        float lowWavelen = originalContext / lowFreqFactor, highWavelen = originalContext / highFreqFactor;
        var factors = new float[headDim / 2];
        for (int i = 0; i < factors.Length; i++)
        {
            float freq = 1f / MathF.Pow(freqBase, 2f * i / headDim);
            float wavelen = 2f * MathF.PI / freq;
            if (wavelen < highWavelen)
            {
                factors[i] = 1f;
            }
            else if (wavelen > lowWavelen)
            {
                factors[i] = factor;
            }
            else
            {
                float smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                factors[i] = 1f / ((1 - smooth) / factor + smooth);
            }
        }
        return factors;
    }

    /// <summary>
    /// A GPT-2 style byte-level BPE vocabulary: the 256 byte tokens, then merged tokens each with
    /// its merge rule, then BOS and EOS as control tokens.
    /// </summary>
    private static void AddVocabulary(GgufWriter w, int vocabSize, Random rng)
    {
        if (vocabSize < 260)
        {
            throw new ArgumentException($"a synthetic vocabulary needs at least 260 tokens, got {vocabSize}", nameof(vocabSize));
        }
        var tokens = new List<string>(vocabSize);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string b in ByteLevel())
        {
            tokens.Add(b);
            seen.Add(b);
        }
        var merges = new List<string>();
        // Merge printable letters and earlier merges into longer tokens, as BPE training would.
        int letters = 'z' - 'a' + 1;
        while (tokens.Count < vocabSize - 2)
        {
            string left = merges.Count < 8 || rng.Next(2) == 0 ? ((char)('a' + rng.Next(letters))).ToString() : tokens[256 + rng.Next(merges.Count)];
            string right = ((char)('a' + rng.Next(letters))).ToString();
            string merged = left + right;
            if (seen.Add(merged))
            {
                tokens.Add(merged);
                merges.Add(left + " " + right);
            }
        }
        int bos = tokens.Count, eos = tokens.Count + 1;
        tokens.Add("<|bos|>");
        tokens.Add("<|eos|>");
        var types = new int[tokens.Count];
        Array.Fill(types, 1);
        types[bos] = types[eos] = 3;
        w.Add(GgufKeys.TokenizerModel, "gpt2")
         .Add(GgufKeys.TokenizerPre, "default")
         .Add(GgufKeys.TokenizerTokens, tokens.ToArray())
         .Add(GgufKeys.TokenizerTokenTypes, types)
         .Add(GgufKeys.TokenizerMerges, merges.ToArray())
         .Add(GgufKeys.TokenizerBos, (uint)bos)
         .Add(GgufKeys.TokenizerEos, (uint)eos)
         .Add(GgufKeys.TokenizerAddBos, false);
    }

    /// <summary>GPT-2's bytes_to_unicode: each byte as a printable character.</summary>
    private static IEnumerable<string> ByteLevel()
    {
        int extra = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            yield return printable ? ((char)b).ToString() : ((char)(256 + extra++)).ToString();
        }
    }
}
