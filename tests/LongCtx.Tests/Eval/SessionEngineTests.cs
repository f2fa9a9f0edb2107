using System.Text;
using LongCtx.Eval.Running;
using LongCtx.Generation;
using LongCtx.KvCache;
using LongCtx.Models;
using LongCtx.Tensors;

namespace LongCtx.Tests.Eval;

/// <summary>
/// The real engine over LongCtx's Session on a small random-weight model, with a byte-level
/// tokenizer (the synthetic vocabulary's first 256 tokens are the bytes).
/// </summary>
public sealed class SessionEngineTests : IClassFixture<TempDirFixture>, IDisposable
{
    private static readonly SyntheticShape Shape = new() { VocabSize = 300, EmbeddingLength = 64, BlockCount = 2, HeadCount = 4, HeadCountKv = 2, FeedForwardLength = 128 };
    private readonly Model _model;

    public SessionEngineTests(TempDirFixture dir)
    {
        string path = Path.Combine(dir.Path, "engine.gguf");
        if (!File.Exists(path))
        {
            SyntheticModel.Write(path, Shape, GgmlType.F32, seed: 5);
        }
        _model = Model.Load(path, new ModelOptions { Threads = 1 });
    }

    public void Dispose() => _model.Dispose();

    [Fact]
    public void Generates_greedily_like_a_plain_session_loop()
    {
        var engine = new SessionEngine(_model, new ByteTokenizer(eos: null), "tiny");
        Assert.Equal(1, engine.PromptOverhead);
        Assert.Equal(5, engine.Count("hello"));
        Assert.Equal(6, engine.Count("h\u00e9llo"));

        EngineResult r = engine.Generate("The grass is green. ", "Answer:", "full", 12);
        Assert.Equal(1 + 27, r.PromptTokens);
        Assert.Equal(12, r.GeneratedTokens);
        Assert.True(r.PrefillTokensPerSecond > 0 && r.DecodeTokensPerSecond > 0);
        // F16 cache of 2 layers x 2 KV heads x (28 + 12) positions, each (K + V) x 16 dims x 2 bytes
        // plus its original position (4 bytes).
        Assert.Equal(2L * 2 * (28 + 12) * ((2 * 16 * 2) + 4), r.KvBytes);

        var session = new Session(_model, new SessionOptions { ContextSize = 40 });
        ReadOnlySpan<float> logits = session.Prefill(new ByteTokenizer().Encode("The grass is green. Answer:", true, true));
        var ids = new List<int>();
        for (int i = 0; i < 12; i++)
        {
            ids.Add(Greedy.Argmax(logits));
            if (i < 11)
            {
                logits = session.Decode(ids[^1]);
            }
        }
        Assert.Equal(new ByteTokenizer().Decode(ids.ToArray()), r.Text);
        Assert.Equal(r.Text, engine.Generate("The grass is green. ", "Answer:", "full", 12).Text);
    }

    [Fact]
    public void Stops_at_end_of_generation()
    {
        // Every token ends generation: nothing is generated, no decode step runs.
        var engine = new SessionEngine(_model, new AllEnd(), "tiny");
        EngineResult r = engine.Generate("abc", "", "full", 8);
        Assert.Equal(0, r.GeneratedTokens);
        Assert.Equal("", r.Text);
    }

    private sealed class AllEnd : IEvalTokenizer
    {
        public int[] Encode(string text, bool addSpecial, bool parseSpecial) => Encoding.ASCII.GetBytes(text).Select(b => (int)b).ToArray();
        public string Decode(ReadOnlySpan<int> tokens) => new('x', tokens.Length);
        public bool IsEndOfGeneration(int token) => true;
    }

    [Fact]
    public void Methods_come_from_the_registry_and_bad_specs_are_named()
    {
        var engine = new SessionEngine(_model, new ByteTokenizer(), "tiny");
        engine.ValidateMethod("full");
        engine.ValidateMethod(" FULL ");
        engine.ValidateMethod("snapkv:ratio=0.5,window=8+int8");
        engine.ValidateMethod("quest:budget=256");
        foreach (string bad in new[] { "snapkv:windw=8", "nonsense", "knorm:ratio=1.5", "quest+tokenselect" })
        {
            var e = Assert.Throws<KvSpecException>(() => engine.ValidateMethod(bad));
            Assert.Contains($"'{bad}'", e.Message);
            Assert.Throws<KvSpecException>(() => engine.Generate("abc", "", bad, 4));
        }
    }

    private const string Context = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. ";

    [Theory]
    [InlineData("streamingllm:ratio=0")]
    [InlineData("snapkv:ratio=0,window=8")]
    [InlineData("h2o:ratio=0")]
    [InlineData("knorm:ratio=0")]
    [InlineData("quest:budget=4096,dense_layers=0")] // a budget covering every entry reads everything
    public void A_method_that_removes_nothing_gives_the_full_cache_answer(string spec)
    {
        var engine = new SessionEngine(_model, new ByteTokenizer(eos: null), "tiny");
        EngineResult full = engine.Generate(Context, "Answer:", "full", 16), method = engine.Generate(Context, "Answer:", spec, 16);
        Assert.Equal(full.Text, method.Text);
        Assert.Equal(full.GeneratedTokens, method.GeneratedTokens);
        Assert.Equal(full.PromptTokens, method.PromptTokens);
    }

    [Fact]
    public void A_press_at_half_holds_about_half_the_entries()
    {
        var engine = new SessionEngine(_model, new ByteTokenizer(eos: null), "tiny");
        EngineResult full = engine.Generate(Context, "Answer:", "full", 8);
        EngineResult snap = engine.Generate(Context, "Answer:", "snapkv:ratio=0.5,window=8", 8);
        EngineResult int8 = engine.Generate(Context, "Answer:", "int8:window=16", 8);
        Assert.Equal(8, snap.GeneratedTokens);
        Assert.True(snap.DecodeTokensPerSecond > 0 && int8.DecodeTokensPerSecond > 0);
        // The full cache fills the context (prompt + 8). The press runs on the prompt: each head
        // keeps n - floor(n/2) of its entries, then the 7 decoded tokens join (the last generated
        // token is never evaluated), in storage that grew by at most 64 entries.
        const int entry = (2 * 16 * 2) + 4;
        int prompt = full.PromptTokens, kept = prompt - (prompt / 2);
        Assert.Equal(2L * 2 * (prompt + 8) * entry, full.KvBytes);
        Assert.InRange(snap.KvBytes, 2L * 2 * (kept + 7) * entry, 2L * 2 * (kept + 64) * entry);
        Assert.True(int8.KvBytes < full.KvBytes);
    }

    [Fact]
    public void A_selector_runs_at_every_decode_step_and_deletes_nothing()
    {
        int calls = 0;
        var options = new SessionEngineOptions
        {
            Methods = spec =>
            {
                KvMethod parsed = KvMethodRegistry.Parse(spec);
                return parsed with { Selector = new Counting(parsed.Selector!, () => Interlocked.Increment(ref calls)) };
            },
        };
        var engine = new SessionEngine(_model, new ByteTokenizer(eos: null), "tiny", options);
        EngineResult full = engine.Generate(Context, "Answer:", "full", 6);
        EngineResult quest = engine.Generate(Context, "Answer:", "quest:budget=16,page=4,dense_layers=0", 6);
        Assert.Equal(6, quest.GeneratedTokens);
        // 5 decode steps x 2 layers x 2 KV heads; prefill batches read everything.
        Assert.Equal(5 * 2 * 2, calls);
        Assert.Equal(full.KvBytes, quest.KvBytes);
    }

    private sealed class Counting(IKvSelector inner, Action onSelect) : IKvSelector
    {
        public int Select(LongCtx.KvCache.KvCache cache, int layer, int kvHead, ReadOnlySpan<float> queries, Span<int> selected)
        {
            onSelect();
            return inner.Select(cache, layer, kvHead, queries, selected);
        }
    }
}
