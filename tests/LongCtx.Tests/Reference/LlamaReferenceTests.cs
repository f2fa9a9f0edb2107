using System.Runtime.InteropServices;
using LongCtx.Models;
using LongCtx.Reference;
using LongCtx.Tensors;

namespace LongCtx.Tests.Reference;

/// <summary>Writes the tiny model once for all tests in <see cref="LlamaReferenceTests"/>.</summary>
public sealed class TinyLlamaFixture : IDisposable
{
    public TinyLlamaFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("longctx-ref-").FullName;
        Path = TinyLlamaFile.Write(System.IO.Path.Combine(Directory, "tiny-llama.gguf"));
    }

    public string Directory { get; }

    public string Path { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

public sealed class LlamaReferenceTests(TinyLlamaFixture file) : IClassFixture<TinyLlamaFixture>
{
    private static readonly int[] Prompt = [256 + 3, 256 + 8, 10, 32, 65, 66, 67, 1, 2, 200, 13, 7];

    [Fact]
    public void StructLayoutsMatchLlamaH()
    {
        // sizeof/offsetof from a C program compiled against llama.h of the packaged release.
        Assert.Equal(80, Marshal.SizeOf<LlamaModelParams>());
        Assert.Equal(16, (int)Marshal.OffsetOf<LlamaModelParams>(nameof(LlamaModelParams.NGpuLayers)));
        Assert.Equal(32, (int)Marshal.OffsetOf<LlamaModelParams>(nameof(LlamaModelParams.MainGpu)));
        Assert.Equal(40, (int)Marshal.OffsetOf<LlamaModelParams>(nameof(LlamaModelParams.TensorSplit)));
        Assert.Equal(64, (int)Marshal.OffsetOf<LlamaModelParams>(nameof(LlamaModelParams.KvOverrides)));
        Assert.Equal(72, (int)Marshal.OffsetOf<LlamaModelParams>(nameof(LlamaModelParams.VocabOnly)));
        Assert.Equal(77, (int)Marshal.OffsetOf<LlamaModelParams>(nameof(LlamaModelParams.LoadMtp)));

        Assert.Equal(160, Marshal.SizeOf<LlamaContextParams>());
        Assert.Equal(52, (int)Marshal.OffsetOf<LlamaContextParams>(nameof(LlamaContextParams.FlashAttnType)));
        Assert.Equal(56, (int)Marshal.OffsetOf<LlamaContextParams>(nameof(LlamaContextParams.RopeFreqBase)));
        Assert.Equal(88, (int)Marshal.OffsetOf<LlamaContextParams>(nameof(LlamaContextParams.CbEval)));
        Assert.Equal(104, (int)Marshal.OffsetOf<LlamaContextParams>(nameof(LlamaContextParams.TypeK)));
        Assert.Equal(112, (int)Marshal.OffsetOf<LlamaContextParams>(nameof(LlamaContextParams.AbortCallback)));
        Assert.Equal(128, (int)Marshal.OffsetOf<LlamaContextParams>(nameof(LlamaContextParams.Embeddings)));
        Assert.Equal(133, (int)Marshal.OffsetOf<LlamaContextParams>(nameof(LlamaContextParams.KvUnified)));
        Assert.Equal(136, (int)Marshal.OffsetOf<LlamaContextParams>(nameof(LlamaContextParams.Samplers)));
        Assert.Equal(152, (int)Marshal.OffsetOf<LlamaContextParams>(nameof(LlamaContextParams.CtxOther)));

        Assert.Equal(56, Marshal.SizeOf<LlamaBatch>());
        Assert.Equal(48, (int)Marshal.OffsetOf<LlamaBatch>(nameof(LlamaBatch.Logits)));
    }

    [Fact]
    public void DefaultParamsRoundTripByValue()
    {
        LlamaRuntime.EnsureInitialized();
        // The defaults written in src/llama-context.cpp and src/llama-model.cpp of the release.
        LlamaContextParams c = LlamaNative.llama_context_default_params();
        Assert.Equal((512u, 2048u, 512u, 1u, 0u, 0u, 1u), (c.NCtx, c.NBatch, c.NUbatch, c.NSeqMax, c.NRsSeq, c.NOutputsMax, c.NOutputsMaxPerSeq));
        Assert.Equal((-1, 0f, -1f, -1f, 0u, -1f), (c.FlashAttnType, c.RopeFreqBase, c.YarnExtFactor, c.YarnBetaSlow, c.YarnOrigCtx, c.DefragThold));
        Assert.Equal((1, 1), (c.TypeK, c.TypeV));
        Assert.Equal(((byte)0, (byte)1, (byte)1, (byte)1, (byte)1, (byte)0), (c.Embeddings, c.OffloadKqv, c.NoPerf, c.OpOffload, c.SwaFull, c.KvUnified));
        Assert.Equal((IntPtr.Zero, (nuint)0, IntPtr.Zero), (c.Samplers, c.NSamplers, c.CtxOther));

        LlamaModelParams m = LlamaNative.llama_model_default_params();
        Assert.Equal((-1, 1, -1, 1, 0), (m.NGpuLayers, m.SplitMode, m.LoadMode, m.LazyMode, m.MainGpu));
        Assert.Equal(((byte)0, (byte)0, (byte)1, (byte)0, (byte)0, (byte)0), (m.VocabOnly, m.CheckTensors, m.UseExtraBufts, m.NoHost, m.NoAlloc, m.LoadMtp));
    }

    [Fact]
    public void LoadsTheFileAsWritten()
    {
        using var llama = LlamaReference.Load(file.Path);
        Assert.Equal(TinyLlamaFile.VocabSize, llama.VocabSize);
        Assert.Equal(512, llama.ContextSize);
        Assert.Equal(512, llama.BatchSize);
        Assert.Equal(0, llama.Position);
        Assert.StartsWith("llama", llama.Description, StringComparison.Ordinal);
        Assert.Equal("tiny-llama-test", llama.MetadataString("general.name"));
        Assert.Equal("64", llama.MetadataString("llama.embedding_length"));
        Assert.Null(llama.MetadataString("no.such.key"));
        Assert.Equal(TinyLlamaFile.EndOfText, llama.Bos);
        Assert.Equal(TinyLlamaFile.EndOfText, llama.Eos);
    }

    [Fact]
    public void PrefillIsFiniteAndDeterministicAcrossLoads()
    {
        float[] first, second;
        using (var llama = LlamaReference.Load(file.Path))
        {
            first = llama.Prefill(Prompt);
            Assert.Equal(Prompt.Length, llama.Position);
        }
        using (var llama = LlamaReference.Load(file.Path))
        {
            second = llama.Prefill(Prompt);
        }
        Assert.Equal(TinyLlamaFile.VocabSize, first.Length);
        Assert.All(first, x => Assert.True(float.IsFinite(x)));
        Assert.True(first.Max() - first.Min() > 1e-3f, "logits should not be constant");
        Assert.Equal(first, second);
    }

    [Fact]
    public void LastRowOfAllLogitsIsPrefill()
    {
        using var llama = LlamaReference.Load(file.Path);
        float[] last = llama.Prefill(Prompt);
        llama.Reset();
        float[][] all = llama.PrefillAllLogits(Prompt);
        Assert.Equal(Prompt.Length, all.Length);
        AssertClose(last, all[^1], 1e-4);
        Assert.NotEqual(all[0], all[^1]);
    }

    [Fact]
    public void DecodeAfterPrefillMatchesTheBatchedRow()
    {
        using var llama = LlamaReference.Load(file.Path);
        int[] both = [.. Prompt, 260, 42];
        float[][] batched = llama.PrefillAllLogits(both);

        llama.Reset();
        llama.Prefill(Prompt);
        float[] first = llama.Decode(260);
        float[] second = llama.Decode(42);
        Assert.Equal(both.Length, llama.Position);
        AssertClose(batched[Prompt.Length], first, 1e-4);
        AssertClose(batched[Prompt.Length + 1], second, 1e-4);
    }

    [Fact]
    public void SmallBatchesMatchOneBatch()
    {
        float[][] whole, split;
        using (var llama = LlamaReference.Load(file.Path))
        {
            whole = llama.PrefillAllLogits(Prompt);
        }
        using (var llama = LlamaReference.Load(file.Path, new LlamaReferenceOptions { BatchSize = 5 }))
        {
            Assert.Equal(5, llama.BatchSize);
            split = llama.PrefillAllLogits(Prompt);
        }
        for (int i = 0; i < Prompt.Length; i++)
        {
            AssertClose(whole[i], split[i], 1e-4);
        }
    }

    [Fact]
    public void ResetStartsOver()
    {
        using var llama = LlamaReference.Load(file.Path);
        float[] fresh = llama.Prefill(Prompt);
        float[] continued = llama.Prefill(Prompt);
        Assert.NotEqual(fresh, continued);
        llama.Reset();
        Assert.Equal(0, llama.Position);
        Assert.Equal(fresh, llama.Prefill(Prompt));
    }

    [Fact]
    public void ContextOverflowAndBadTokensAreArgumentErrors()
    {
        using var llama = LlamaReference.Load(file.Path, new LlamaReferenceOptions { ContextSize = 256 });
        Assert.Equal(256, llama.ContextSize);
        Assert.Throws<ArgumentException>(() => llama.Prefill(new int[257]));
        Assert.Throws<ArgumentException>(() => llama.Prefill([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => llama.Decode(llama.VocabSize));
        Assert.Equal(0, llama.Position);
    }

    [Fact]
    public void GreedyGenerateIsDeterministicArgmax()
    {
        int[] ids;
        float[][] logits;
        using (var llama = LlamaReference.Load(file.Path))
        {
            ids = llama.GreedyGenerate(Prompt, 8, out logits);
            Assert.Equal(Prompt.Length + 7, llama.Position);
            llama.Reset();
            Assert.Equal(logits[0], llama.Prefill(Prompt));
        }
        Assert.Equal(8, ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            Assert.Equal(LlamaReference.ArgMax(logits[i]), ids[i]);
        }
        using (var again = LlamaReference.Load(file.Path))
        {
            Assert.Equal(ids, again.GreedyGenerate(Prompt, 8, out float[][] logitsAgain));
            Assert.Equal(logits, logitsAgain);
        }
    }

    [Fact]
    public void ArgMaxTakesTheLowestIdOnTies() =>
        Assert.Equal(1, LlamaReference.ArgMax([0f, 2f, float.NaN, 2f, 1f]));

    [Fact]
    public void MissingFileThrowsNamingThePath()
    {
        string path = Path.Combine(file.Directory, "does-not-exist.gguf");
        var e = Assert.Throws<InvalidOperationException>(() => LlamaReference.Load(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CorruptFilesThrowNamingThePath()
    {
        string garbage = Path.Combine(file.Directory, "garbage.gguf");
        File.WriteAllBytes(garbage, Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919)).ToArray());
        var e = Assert.Throws<InvalidOperationException>(() => LlamaReference.Load(garbage));
        Assert.Contains(garbage, e.Message, StringComparison.Ordinal);

        string truncated = Path.Combine(file.Directory, "truncated.gguf");
        byte[] whole = File.ReadAllBytes(file.Path);
        File.WriteAllBytes(truncated, whole.AsSpan(0, whole.Length - 1000).ToArray());
        e = Assert.Throws<InvalidOperationException>(() => LlamaReference.Load(truncated));
        Assert.Contains(truncated, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KvTypeAndFlashAttentionOptionsApply()
    {
        float[] f16, f32, flash;
        using (var llama = LlamaReference.Load(file.Path))
        {
            f16 = llama.Prefill(Prompt);
        }
        using (var llama = LlamaReference.Load(file.Path, new LlamaReferenceOptions { KvCacheType = LlamaKvCacheType.F32 }))
        {
            f32 = llama.Prefill(Prompt);
        }
        using (var llama = LlamaReference.Load(file.Path, new LlamaReferenceOptions { FlashAttention = LlamaFlashAttention.Enabled }))
        {
            flash = llama.Prefill(Prompt);
        }
        // F16 rounding of K, V, Q and the attention weights moves the logits a little, not a lot.
        Assert.NotEqual(f16, f32);
        AssertClose(f32, f16, 1e-2);
        AssertClose(f32, flash, 1e-2);
    }

    [Fact]
    public void ManyLoadsDoNotLeakOrCrash()
    {
        for (int i = 0; i < 30; i++)
        {
            using var llama = LlamaReference.Load(file.Path);
            Assert.Equal(TinyLlamaFile.VocabSize, llama.Decode(i).Length);
        }
    }

    [Theory]
    [InlineData("llama", GgmlType.F32, false)]
    [InlineData("llama", GgmlType.F16, true)]
    [InlineData("qwen2", GgmlType.F16, true)]
    [InlineData("qwen3", GgmlType.F32, false)]
    public void LoadsTheEnginesSyntheticModels(string architecture, GgmlType type, bool tied)
    {
        string path = Path.Combine(file.Directory, $"synthetic-{architecture}-{type}-{tied}.gguf");
        var shape = new SyntheticShape { Architecture = architecture, TiedEmbeddings = tied };
        SyntheticModel.Write(path, shape, type);
        using var llama = LlamaReference.Load(path);
        Assert.Equal(shape.VocabSize, llama.VocabSize);
        Assert.Equal(architecture, llama.MetadataString("general.architecture"));
        float[] logits = llama.Prefill(Prompt);
        Assert.All(logits, x => Assert.True(float.IsFinite(x)));
    }

    [Fact]
    public void TokenizerRoundTrips()
    {
        using var llama = LlamaReference.Load(file.Path);
        int hello = 256 + 3, world = 256 + 8; // "hello" and "Ġworld" from the merges
        Assert.Equal([hello, world], llama.Tokenize("hello world", addSpecial: false, parseSpecial: false));
        Assert.Empty(llama.Tokenize("", addSpecial: false, parseSpecial: false));
        Assert.Equal(" world", llama.TokenToPiece(world, special: false));
        Assert.Equal(new byte[] { 0xE2 }, llama.TokenToPieceBytes(0xE2, special: false));

        int imStart = TinyLlamaFile.EndOfText + 1;
        Assert.Equal([imStart], llama.Tokenize("<|im_start|>", addSpecial: false, parseSpecial: true));
        Assert.NotEqual([imStart], llama.Tokenize("<|im_start|>", addSpecial: false, parseSpecial: false));
        Assert.Equal("<|im_start|>", llama.TokenToPiece(imStart, special: true));
        Assert.Equal("", llama.TokenToPiece(imStart, special: false));

        const string text = "héllo wörld 🙂";
        int[] ids = llama.Tokenize(text, addSpecial: false, parseSpecial: false);
        Assert.Equal(text, llama.Detokenize(ids, removeSpecial: false, unparseSpecial: false));
    }

    [Fact]
    public void ChatTemplateUsesTheModelsOwnByDefault()
    {
        using var llama = LlamaReference.Load(file.Path);
        Assert.Equal(TinyLlamaFile.ChatMlTemplate, llama.ChatTemplate);
        (string, string)[] chat = [("system", "Be brief."), ("user", "hello")];
        string expected = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n";
        Assert.Equal(expected, llama.ApplyChatTemplate(null, chat, addAssistant: true));
        Assert.Equal(expected, llama.ApplyChatTemplate("chatml", chat, addAssistant: true));

        string longContent = new('x', 5000);
        Assert.Contains(longContent, llama.ApplyChatTemplate("chatml", [("user", longContent)], addAssistant: false), StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => llama.ApplyChatTemplate("no such template", chat, addAssistant: true));
    }

    private static void AssertClose(float[] expected, float[] actual, double relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(x => Math.Abs((double)x));
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs((double)expected[i] - actual[i]));
        }
        Assert.True(worst <= relative * scale, $"max |diff| {worst:g4} > {relative:g2} × max |logit| {scale:g4}");
    }
}
