using LongCtx.Generation;
using LongCtx.KvCache;
using LongCtx.KvCache.Presses;
using LongCtx.Models;
using LongCtx.Tensors;

namespace LongCtx.Tests.KvCache;

/// <summary>KV methods inside a session on a real (random-weight) model: ratio 0 changes nothing, budgets hold, the question stays uncompressed.</summary>
public sealed class KvSessionTests(TempDirFixture dir) : IClassFixture<TempDirFixture>
{
    private const int PromptLength = 150, Steps = 8;

    /// <summary>Every registered press at ratio 0 (plus a wrapper over another scorer, a composition, and selectors whose budget covers everything).</summary>
    public static TheoryData<string, KvCacheType> NothingRemovedSpecs()
    {
        var specs = new List<string>();
        foreach (KvMethodInfo m in KvMethodRegistry.All)
        {
            if (m.Parameters.Any(p => p.Name == "ratio"))
            {
                specs.Add($"{m.Name}:ratio=0");
            }
        }
        specs.AddRange(["adakv:scorer=h2o,ratio=0", "snapkv:ratio=0+think:ratio=0+pyramidkv:ratio=0", "quest:budget=4096,dense_layers=0", "tokenselect:budget=4096"]);
        var data = new TheoryData<string, KvCacheType>();
        foreach (string spec in specs)
        {
            data.Add(spec, KvCacheType.F16);
        }
        // The F32 cache takes the other attention path; a few methods cover it.
        foreach (string spec in new[] { "snapkv:ratio=0", "adakv:scorer=h2o,ratio=0", "think:ratio=0", "tokenselect:budget=4096" })
        {
            data.Add(spec, KvCacheType.F32);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(NothingRemovedSpecs))]
    public void NothingRemovedGivesTheFullCacheLogitsBitForBit(string spec, KvCacheType type)
    {
        using Model model = Load("qwen2");
        int[] prompt = Prompt(model);
        float[][] full = Run(model, type, prompt, null);
        float[][] pressed = Run(model, type, prompt, KvMethodRegistry.Parse(spec));
        for (int step = 0; step < full.Length; step++)
        {
            Assert.True(full[step].AsSpan().SequenceEqual(pressed[step]), $"{spec}: logits differ at step {step}");
        }
    }

    [Fact]
    public void TheQuestionAfterACompressedContextStaysUncompressed()
    {
        using Model model = Load("llama");
        var session = new Session(model, new SessionOptions { ContextSize = 512 });
        session.Prefill(Prompt(model), new SnapKvPress { Ratio = 0.75, Window = 16 });
        Assert.Equal(PromptLength - (int)(PromptLength * 0.75), session.Cache.Count(0, 0));
        session.Prefill([5, 6, 7, 8]);
        Assert.Equal(PromptLength + 4, session.Position);
        for (int l = 0; l < model.Config.BlockCount; l++)
            for (int h = 0; h < model.Config.HeadCountKv; h++)
                Assert.Equal([PromptLength, PromptLength + 1, PromptLength + 2, PromptLength + 3], session.Cache.Positions(l, h)[^4..].ToArray());
    }

    [Fact]
    public void KvBytesFallToTheBudget()
    {
        using Model model = Load("qwen2");
        var session = new Session(model, new SessionOptions { ContextSize = 512 });
        session.Prefill(Prompt(model), KvMethodRegistry.Parse("snapkv:ratio=0.8").Press!);
        ModelConfig c = model.Config;
        int kept = PromptLength - (int)(PromptLength * 0.8);
        Assert.Equal((long)c.BlockCount * c.HeadCountKv * kept * ((c.HeadDim + c.ValueHeadDim) * 2 + 4), session.KvCacheBytes);
        session.Reset();
        Assert.Equal(0, session.KvCacheBytes);
    }

    [Theory]
    [InlineData("streamingllm")]
    [InlineData("h2o")]
    [InlineData("snapkv:window=8")]
    public void DecodeTimeCompressionKeepsEveryHeadWithinTheBudget(string spec)
    {
        using Model model = Load("qwen2");
        var session = new Session(model, new SessionOptions { ContextSize = 512 });
        session.CompressDuringDecode(KvMethodRegistry.Parse(spec).Press!, interval: 8, budget: 60);
        ReadOnlySpan<float> logits = session.Prefill(Prompt(model)[..40]);
        for (int i = 0; i < 80; i++)
        {
            logits = session.Decode(Greedy.Argmax(logits));
            for (int l = 0; l < model.Config.BlockCount; l++)
                for (int h = 0; h < model.Config.HeadCountKv; h++)
                    Assert.True(session.Cache.Count(l, h) <= 60 + 8, $"{spec}: {session.Cache.Count(l, h)} entries at step {i}");
        }
        Assert.Equal(120, session.Position);
    }

    [Fact]
    public void APressWithoutItsObservationsIsANamedError()
    {
        using Model model = Load("qwen2");
        var session = new Session(model, new SessionOptions { ContextSize = 512 });
        session.Prefill(Prompt(model));
        var e = Assert.Throws<KvObservationException>(() => session.Compress(new SnapKvPress { Ratio = 0.5 }));
        Assert.Contains("snapkv needs the queries of the last 64 evaluated tokens", e.Message);
        Assert.Contains("h2o needs the attention accumulated", Assert.Throws<KvObservationException>(() => session.Compress(new H2OPress { Ratio = 0.5 })).Message);
    }

    /// <summary>Measured on this file: int8 ≥ 0.9998, int4 ≥ 0.985 (random weights amplify errors more than trained ones).</summary>
    [Theory]
    [InlineData("int8:window=16", "full", 0.999)]
    [InlineData("int4:window=16", "full", 0.97)]
    [InlineData("snapkv:ratio=0.5+int8:window=16", "snapkv:ratio=0.5", 0.999)]
    public void QuantizedCacheStaysCloseToFullPrecision(string spec, string baseline, double minCosine)
    {
        using Model model = Load("qwen2");
        int[] prompt = Prompt(model);
        float[][] full = Run(model, KvCacheType.F16, prompt, KvMethodRegistry.Parse(baseline));
        float[][] quantized = Run(model, KvCacheType.F16, prompt, KvMethodRegistry.Parse(spec));
        for (int step = 0; step < full.Length; step++)
        {
            double cosine = Models.ForwardDifferentialTests.Cosine(full[step], quantized[step]);
            Assert.True(cosine >= minCosine, $"{spec}: step {step} cosine {cosine:F6}");
        }
    }

    [Fact]
    public void ASelectorWithASmallBudgetChangesWhatDecodeReads()
    {
        using Model model = Load("qwen2");
        int[] prompt = Prompt(model);
        float[][] full = Run(model, KvCacheType.F16, prompt, null);
        float[][] selected = Run(model, KvCacheType.F16, prompt, KvMethodRegistry.Parse("quest:budget=32,page=8,dense_layers=0"));
        Assert.True(full[0].AsSpan().SequenceEqual(selected[0]), "prefill reads everything");
        Assert.False(full[1].AsSpan().SequenceEqual(selected[1]), "decode reads the selected pages only");
    }

    /// <summary>Prefill (with the method's press), then teacher-forced decode steps; the logits of each step.</summary>
    private static float[][] Run(Model model, KvCacheType type, int[] prompt, KvMethod? method)
    {
        var session = new Session(model, new SessionOptions { ContextSize = 512, BatchSize = 64, KvCacheType = type }) { Selector = method?.Selector };
        var logits = new float[Steps][];
        logits[0] = (method?.Press is null ? session.Prefill(prompt) : session.Prefill(prompt, method.Press)).ToArray();
        for (int step = 1; step < Steps; step++)
        {
            logits[step] = session.Decode(prompt[step]).ToArray();
        }
        return logits;
    }

    private Model Load(string arch)
    {
        string path = Path.Combine(dir.Path, $"{arch}.gguf");
        lock (typeof(KvSessionTests))
        {
            if (!File.Exists(path))
            {
                SyntheticModel.Write(path, new SyntheticShape { Architecture = arch, BlockCount = 3 }, GgmlType.Q8_0, seed: 21);
            }
        }
        return Model.Load(path, new ModelOptions { Threads = 2 });
    }

    private static int[] Prompt(Model model)
    {
        var rng = new Random(7);
        var prompt = new int[PromptLength];
        for (int i = 0; i < prompt.Length; i++) prompt[i] = rng.Next(model.Config.VocabSize - 2);
        return prompt;
    }
}
