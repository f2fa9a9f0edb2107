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

    private EvalCommand.Settings Quick(string model, bool reportOnly = false) => new(
        Suites.Quick, model, "1k", 1, null, "niah_single_1,niah_multikey_1", new DirectoryInfo(_dir.File("out")), 42, 1, KvCacheType.F16, "licenses", reportOnly);

    [Fact]
    public void Quick_suite_runs_resumes_and_reports()
    {
        string model = WriteModel();
        var engines = new EvalEngineSource(_ => new ByteTokenizer());
        Assert.Equal(0, EvalCommand.Run(engines, Quick(model)));

        string results = _dir.File("out/results.jsonl");
        List<EvalRecord> records = ResultsFile.Load(results);
        // Two tasks, one length, one sample; the quick suite's KV methods are not in this engine, so only the full cache ran.
        Assert.Equal(["niah_single_1", "niah_multikey_1"], records.Select(r => r.Task));
        Assert.All(records, r => Assert.Equal("full", r.Method));
        Assert.All(records, r => Assert.InRange(r.PromptTokens, 0.98 * (1024 - 128), 1024));
        Assert.All(records, r => Assert.True(r.KvBytes > 0 && r.PrefillTokensPerSecond > 0));
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
    public void Without_a_tokenizer_a_model_run_is_a_named_error()
    {
        string model = WriteModel();
        var e = Assert.Throws<NotSupportedException>(() => EvalCommand.Run(new EvalEngineSource(null), Quick(model)));
        Assert.Contains("tokenizer", e.Message);
        Assert.Throws<FileNotFoundException>(() => EvalCommand.Run(new EvalEngineSource(_ => new ByteTokenizer()), Quick(_dir.File("missing.gguf"))));
        Assert.Throws<ArgumentException>(() => EvalCommand.Run(new EvalEngineSource(_ => new ByteTokenizer()), Quick(model) with { Tasks = "cwe" }));
    }
}
