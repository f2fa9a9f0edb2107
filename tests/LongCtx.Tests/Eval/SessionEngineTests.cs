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
    public void Methods_come_from_the_registry_and_unknown_ones_are_named()
    {
        var bare = new SessionEngine(_model, new ByteTokenizer(), "tiny");
        bare.ValidateMethod("full");
        bare.ValidateMethod(" FULL ");
        var e = Assert.Throws<ArgumentException>(() => bare.ValidateMethod("snapkv:ratio=0.5"));
        Assert.Contains("snapkv:ratio=0.5", e.Message);

        int afterPrefill = 0;
        var options = new SessionEngineOptions
        {
            Format = (input, prefix) => "[" + input + "]" + prefix,
            Methods = spec => spec == "f32"
                ? new KvMethodHooks(o => o with { KvCacheType = KvCacheType.F32 }, s => { afterPrefill++; Assert.True(s.Position > 0); })
                : throw new ArgumentException($"unknown KV method '{spec}'"),
        };
        var engine = new SessionEngine(_model, new ByteTokenizer(eos: null), "tiny", options);
        Assert.Equal(3, engine.PromptOverhead);
        EngineResult f16 = engine.Generate("abc", "", "full", 4), f32 = engine.Generate("abc", "", "f32", 4);
        Assert.Equal(1, afterPrefill);
        // Per cached entry: F16 holds 2 x 16 x 2 bytes of K and V, F32 twice that; both keep a 4-byte position.
        Assert.Equal(f16.KvBytes / ((2 * 16 * 2) + 4) * ((2 * 16 * 4) + 4), f32.KvBytes);
        Assert.Throws<ArgumentException>(() => engine.Generate("abc", "", "other", 4));
    }
}
