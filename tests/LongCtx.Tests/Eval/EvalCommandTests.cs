using LongCtx.Cli;
using LongCtx.Eval.Running;
using LongCtx.Eval.Tasks;
using LongCtx.KvCache;
using LongCtx.Models;
using LongCtx.Tensors;

namespace LongCtx.Tests.Eval;

/// <summary><c>longctx eval</c> end to end on a random-weight model with a byte-level tokenizer.</summary>
public sealed class EvalCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string WriteModel()
    {
        string path = _dir.File("tiny.gguf");
        SyntheticModel.Write(path, new SyntheticShape { VocabSize = 300, EmbeddingLength = 64, BlockCount = 2, HeadCount = 4, HeadCountKv = 2, FeedForwardLength = 128, ContextLength = 4096 }, GgmlType.Q8_0, seed: 3);
        return path;
    }

    // One task keeps the run short (five methods, 128 answer tokens each); the runner tests cover several tasks.
    private EvalCommand.Settings Quick(string model, bool reportOnly = false) => new(
        Suites.Quick, model, "1k", 1, null, "niah_single_1", new DirectoryInfo(_dir.File("out")), 42, 1, KvCacheType.F16, "licenses", reportOnly);

    [Fact]
    public void Quick_suite_runs_resumes_and_reports()
    {
        string model = WriteModel();
        var engines = new EvalEngineSource(_ => new ByteTokenizer());
        Assert.Equal(0, EvalCommand.Run(engines, Quick(model)));

        string results = _dir.File("out/results.jsonl");
        List<EvalRecord> records = ResultsFile.Load(results);
        // One task, one length, one sample, answered under every method of the suite, from the registry.
        string[] methods = ["full", "streamingllm:ratio=0.5", "snapkv:ratio=0.5", "int8", "quest:budget=256"];
        Assert.Equal(Suites.Quick.Methods, methods);
        Assert.Equal(methods, records.Select(r => r.Method));
        Assert.All(records, r => Assert.Equal("niah_single_1", r.Task));
        Assert.All(records, r => Assert.InRange(r.PromptTokens, 0.98 * (1024 - 128), 1024));
        Assert.All(records, r => Assert.True(r.KvBytes > 0 && r.PrefillTokensPerSecond > 0));
        Assert.All(records.Where(r => r.GeneratedTokens > 1), r => Assert.True(r.DecodeTokensPerSecond > 0));
        // KV bytes are the session's after the press: eviction at half and int8 hold less than the
        // full cache; Quest reads less but deletes nothing.
        long Bytes(string method) => records.Single(r => r.Method == method).KvBytes;
        Assert.InRange(Bytes("snapkv:ratio=0.5"), 1, 0.65 * Bytes("full"));
        Assert.InRange(Bytes("streamingllm:ratio=0.5"), 1, 0.65 * Bytes("full"));
        Assert.InRange(Bytes("int8"), 1, Bytes("full") - 1); // 16-dim heads: ~0.7 of F16 with its 128-entry window
        Assert.Equal(Bytes("full"), Bytes("quest:budget=256"));
        Assert.True(File.Exists(_dir.File("out/report.md")));
        Assert.True(File.Exists(_dir.File("out/report.html")));
        Assert.True(File.Exists(_dir.File("out/plots/task_bars_tiny.gguf.png")));

        // A second run finds everything done and rewrites the same results.
        byte[] before = File.ReadAllBytes(results);
        Assert.Equal(0, EvalCommand.Run(engines, Quick(model)));
        Assert.Equal(before, File.ReadAllBytes(results));
        // --report-only needs no tokenizer.
        Assert.Equal(0, EvalCommand.Run(new EvalEngineSource(null), Quick(model, reportOnly: true)));
    }

    [Fact]
    public void A_bad_method_spec_fails_before_any_sample_runs()
    {
        string model = WriteModel();
        int tokenizers = 0;
        var engines = new EvalEngineSource(_ => { tokenizers++; return new ByteTokenizer(); });
        var e = Assert.Throws<KvSpecException>(() => EvalCommand.Run(engines, Quick(model) with { Methods = "full,snapkv:ratio=0.5,windw=8" }));
        Assert.Contains("'snapkv:ratio=0.5,windw=8'", e.Message);
        Assert.Contains("windw", e.Message);
        // Checked before any model was opened: no tokenizer made, no results written.
        Assert.Equal(0, tokenizers);
        Assert.Empty(ResultsFile.Load(_dir.File("out/results.jsonl")));
    }

    [Fact]
    public void Without_a_tokenizer_a_model_run_is_a_named_error()
    {
        string model = WriteModel();
        var e = Assert.Throws<NotSupportedException>(() => EvalCommand.Run(new EvalEngineSource(null), Quick(model)));
        Assert.Contains("tokenizer", e.Message);
        Assert.Throws<FileNotFoundException>(() => EvalCommand.Run(new EvalEngineSource(_ => new ByteTokenizer()), Quick(_dir.File("missing.gguf"))));
        Assert.Throws<ArgumentException>(() => EvalCommand.Run(new EvalEngineSource(_ => new ByteTokenizer()), Quick(model) with { Tasks = "cwe" }));
    }
}
