using LongCtx.Gguf;
using LongCtx.Tensors;

namespace LongCtx.Tests.Reference;

/// <summary>
/// A tiny random-weight <c>llama</c> GGUF that llama.cpp loads: 2 blocks, d=64, 4 heads,
/// 2 KV heads (GQA), ffn 128, and a byte-level <c>gpt2</c> BPE vocab (the 256 byte tokens,
/// a few merges — llama.cpp refuses an empty merges list — and three control tokens).
/// </summary>
internal static class TinyLlamaFile
{
    public const int Embedding = 64;
    public const int Blocks = 2;
    public const int Heads = 4;
    public const int KvHeads = 2;
    public const int FeedForward = 128;

    /// <summary>Merges, in rank order; each adds the token formed by its two halves.</summary>
    public static readonly string[] Merges = ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"];

    public static readonly string[] ControlTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

    /// <summary>256 byte tokens + one per merge + the control tokens.</summary>
    public static int VocabSize => 256 + Merges.Length + ControlTokens.Length;

    public static int EndOfText => 256 + Merges.Length;

    /// <summary>The chatml template text, which llama.cpp recognises by its &lt;|im_start|&gt; marker.</summary>
    public const string ChatMlTemplate =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    /// <summary>Writes the model to <paramref name="path"/> with weights drawn from <paramref name="seed"/>.</summary>
    public static string Write(string path, int seed = 1, GgmlType weightType = GgmlType.F32)
    {
        var tokens = new List<string>(ByteLevelAlphabet());
        foreach (string merge in Merges)
        {
            tokens.Add(merge.Replace(" ", "", StringComparison.Ordinal));
        }
        tokens.AddRange(ControlTokens);
        int[] types = tokens.Select((_, i) => i >= EndOfText ? 3 : 1).ToArray(); // 1 normal, 3 control

        const string arch = "llama";
        var w = new GgufWriter()
            .Add(GgufKeys.Architecture, arch)
            .Add(GgufKeys.Name, "tiny-llama-test")
            .Add(GgufKeys.ForArch(GgufKeys.BlockCount, arch), (uint)Blocks)
            .Add(GgufKeys.ForArch(GgufKeys.ContextLength, arch), 1024u)
            .Add(GgufKeys.ForArch(GgufKeys.EmbeddingLength, arch), (uint)Embedding)
            .Add(GgufKeys.ForArch(GgufKeys.FeedForwardLength, arch), (uint)FeedForward)
            .Add(GgufKeys.ForArch(GgufKeys.HeadCount, arch), (uint)Heads)
            .Add(GgufKeys.ForArch(GgufKeys.HeadCountKv, arch), (uint)KvHeads)
            .Add(GgufKeys.ForArch(GgufKeys.RopeFreqBase, arch), 10000f)
            .Add(GgufKeys.ForArch(GgufKeys.RmsEpsilon, arch), 1e-5f)
            .Add(GgufKeys.TokenizerModel, "gpt2")
            .Add(GgufKeys.TokenizerPre, "default")
            .Add(GgufKeys.TokenizerTokens, tokens.ToArray())
            .Add(GgufKeys.TokenizerTokenTypes, types)
            .Add(GgufKeys.TokenizerMerges, Merges)
            .Add(GgufKeys.TokenizerBos, (uint)EndOfText)
            .Add(GgufKeys.TokenizerEos, (uint)EndOfText)
            .Add(GgufKeys.TokenizerAddBos, false)
            .Add(GgufKeys.ChatTemplate, ChatMlTemplate);

        var random = new Random(seed);
        int kv = Embedding / Heads * KvHeads;
        void Tensor(string name, GgmlType type, params long[] shape)
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            bool isNorm = shape.Length == 1;
            float scale = isNorm ? 0.1f : 1f / MathF.Sqrt(shape[0]);
            var values = new float[count];
            for (long i = 0; i < count; i++)
            {
                float u = (float)(random.NextDouble() * 2 - 1);
                values[i] = isNorm ? 1f + scale * u : 1.7f * scale * u;
            }
            w.AddTensor(name, isNorm ? GgmlType.F32 : type, shape, values);
        }

        Tensor(GgufTensorNames.TokenEmbedding, weightType, Embedding, VocabSize);
        for (int b = 0; b < Blocks; b++)
        {
            Tensor(GgufTensorNames.ForBlock(GgufTensorNames.AttnNorm, b), GgmlType.F32, Embedding);
            Tensor(GgufTensorNames.ForBlock(GgufTensorNames.AttnQ, b), weightType, Embedding, Embedding);
            Tensor(GgufTensorNames.ForBlock(GgufTensorNames.AttnK, b), weightType, Embedding, kv);
            Tensor(GgufTensorNames.ForBlock(GgufTensorNames.AttnV, b), weightType, Embedding, kv);
            Tensor(GgufTensorNames.ForBlock(GgufTensorNames.AttnOutput, b), weightType, Embedding, Embedding);
            Tensor(GgufTensorNames.ForBlock(GgufTensorNames.FfnNorm, b), GgmlType.F32, Embedding);
            Tensor(GgufTensorNames.ForBlock(GgufTensorNames.FfnGate, b), weightType, Embedding, FeedForward);
            Tensor(GgufTensorNames.ForBlock(GgufTensorNames.FfnUp, b), weightType, Embedding, FeedForward);
            Tensor(GgufTensorNames.ForBlock(GgufTensorNames.FfnDown, b), weightType, FeedForward, Embedding);
        }
        Tensor(GgufTensorNames.OutputNorm, GgmlType.F32, Embedding);
        Tensor(GgufTensorNames.Output, weightType, Embedding, VocabSize);
        w.Write(path);
        return path;
    }

    /// <summary>GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest map to U+0100 onwards.</summary>
    public static string[] ByteLevelAlphabet()
    {
        var result = new string[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            result[b] = ((char)(printable ? b : next++)).ToString();
        }
        return result;
    }
}
