using LongCtx.Eval.Running;
using LongCtx.Eval.Tasks;

namespace LongCtx.Tests.Eval;

/// <summary>The runner: results JSONL, resume after interruption, skipped work, plan parsing.</summary>
public sealed class RunnerTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static EvalPlan Plan() => new()
    {
        Suite = "test",
        Models = ["models/a.gguf", "b.gguf"],
        Methods = ["full", "lossy:ratio=0.5"],
        Lengths = [1024, 2048],
        Tasks = [TaskCatalog.Get("niah_single_1"), TaskCatalog.Get("vt"), TaskCatalog.Get("niah_depth_50")],
        Samples = 2,
        Seed = 7,
    };

    private sealed class CancelAfter(int n, CancellationTokenSource cts) : IEvalProgress
    {
        public int Count { get; private set; }
        public (int Total, int Done) Start { get; private set; }
        public List<string> Warnings { get; } = [];
        public void Started(int total, int alreadyDone) => Start = (total, alreadyDone);
        public void Status(string text) { }
        public void Warning(string text) => Warnings.Add(text);
        public void Completed(EvalRecord record)
        {
            if (++Count == n)
            {
                cts.Cancel();
            }
        }
    }

    [Fact]
    public void A_resumed_run_writes_the_same_jsonl_as_an_uninterrupted_one()
    {
        string whole = _dir.File("whole.jsonl"), resumed = _dir.File("resumed.jsonl");
        RunSummary full = new EvalRunner(m => new FakeEngine(m)).Run(Plan(), whole);
        Assert.Equal(48, full.Total);
        Assert.Equal(48, full.Completed);

        // Interrupt twice, once in the middle of a sample's methods, then finish.
        foreach (int stopAfter in new[] { 5, 20 })
        {
            using var cts = new CancellationTokenSource();
            Assert.Throws<OperationCanceledException>(() => new EvalRunner(m => new FakeEngine(m), new CancelAfter(stopAfter, cts)).Run(Plan(), resumed, cts.Token));
        }
        var engines = new List<FakeEngine>();
        var progress = new CancelAfter(-1, new CancellationTokenSource());
        RunSummary rest = new EvalRunner(m => { var e = new FakeEngine(m); engines.Add(e); return e; }, progress).Run(Plan(), resumed);
        Assert.Equal(25, rest.Resumed);
        Assert.Equal(23, rest.Completed);
        Assert.Equal((48, 25), progress.Start);
        Assert.Equal(23, engines.Sum(e => e.Calls));
        Assert.All(engines, e => Assert.True(e.Disposed));

        Assert.Equal(File.ReadAllBytes(whole), File.ReadAllBytes(resumed));
    }

    [Fact]
    public void A_record_cut_off_mid_write_is_dropped_and_redone()
    {
        string whole = _dir.File("whole.jsonl"), cut = _dir.File("cut.jsonl");
        new EvalRunner(m => new FakeEngine(m)).Run(Plan(), whole);
        byte[] bytes = File.ReadAllBytes(whole);
        int tenthLineEnd = 0;
        for (int lines = 0; lines < 10; tenthLineEnd++)
        {
            lines += bytes[tenthLineEnd] == '\n' ? 1 : 0;
        }
        File.WriteAllBytes(cut, bytes[..(tenthLineEnd + 40)]);  // ten records and the start of the eleventh

        RunSummary rest = new EvalRunner(m => new FakeEngine(m)).Run(Plan(), cut);
        Assert.Equal(10, rest.Resumed);
        Assert.Equal(File.ReadAllBytes(whole), File.ReadAllBytes(cut));
    }

    [Fact]
    public void A_finished_run_opens_no_model()
    {
        string path = _dir.File("done.jsonl");
        new EvalRunner(m => new FakeEngine(m)).Run(Plan(), path);
        RunSummary again = new EvalRunner(_ => throw new InvalidOperationException("no model should be opened")).Run(Plan(), path);
        Assert.Equal(new RunSummary(48, 48, 0, 0), again);
    }

    [Fact]
    public void Records_carry_score_speed_and_kv_bytes()
    {
        string path = _dir.File("r.jsonl");
        new EvalRunner(m => new FakeEngine(m)).Run(Plan(), path);
        List<EvalRecord> records = ResultsFile.Load(path);
        Assert.Equal(48, records.Count);
        Assert.Equal(48, records.Select(r => r.Key).Distinct().Count());
        EvalRecord first = records[0];
        Assert.Equal(("test", "a.gguf", "full", "niah_single_1", 1024, 0, 7UL), (first.Suite, first.Model, first.Method, first.Task, first.Length, first.Sample, first.Seed));
        Assert.Equal("string_match_all", first.Metric);
        // The fake answers needles right with the full cache and never with the lossy method.
        Assert.All(records.Where(r => r.Task.StartsWith("niah", StringComparison.Ordinal) && r.Method == "full"), r => Assert.Equal(1.0, r.Score));
        Assert.All(records.Where(r => r.Method != "full"), r => Assert.Equal(0.0, r.Score));
        Assert.All(records, r => Assert.True(r.KvBytes > 0 && r.PrefillTokensPerSecond > 0 && r.DecodeTokensPerSecond > 0));
        Assert.All(records.Where(r => r.Task == "niah_depth_50"), r => Assert.Equal(50.0, r.Depth));
        Assert.All(records.Where(r => r.Task != "niah_depth_50"), r => Assert.Null(r.Depth));
        Assert.All(records, r => Assert.InRange(r.PromptTokens, (int)(0.99 * (r.Length - 128)), r.Length));
        string line = File.ReadAllLines(path)[0];
        Assert.StartsWith("{\"suite\":\"test\",\"model\":\"a.gguf\",\"method\":\"full\",\"task\":\"niah_single_1\",\"length\":1024,\"sample\":0,\"seed\":7,\"depth\":null,", line);
        Assert.Contains("\"kv_bytes\":", line);
    }

    [Fact]
    public void Unknown_method_fails_before_any_work()
    {
        var plan = Plan() with { Methods = ["full", "nonsense:x=1"] };
        string path = _dir.File("bad.jsonl");
        var e = Assert.Throws<ArgumentException>(() => new EvalRunner(m => new FakeEngine(m)).Run(plan, path));
        Assert.Contains("nonsense", e.Message);
        Assert.Empty(ResultsFile.Load(path));
    }

    [Fact]
    public void A_length_too_short_for_a_task_is_skipped_with_a_warning()
    {
        var plan = Plan() with { Models = ["a"], Lengths = [256], Tasks = [TaskCatalog.Get("cwe"), TaskCatalog.Get("niah_single_1")] };
        var progress = new CancelAfter(-1, new CancellationTokenSource());
        RunSummary s = new EvalRunner(m => new FakeEngine(m), progress).Run(plan, _dir.File("short.jsonl"));
        Assert.Equal(4, s.Skipped);
        Assert.Equal(4, s.Completed);
        Assert.Contains(progress.Warnings, w => w.Contains("cwe", StringComparison.Ordinal));
    }

    [Fact]
    public void A_corrupt_line_in_the_middle_is_a_named_error()
    {
        string path = _dir.File("corrupt.jsonl");
        new EvalRunner(m => new FakeEngine(m)).Run(Plan() with { Models = ["a"], Lengths = [1024] }, path);
        var lines = File.ReadAllLines(path).ToList();
        lines[2] = "{not json";
        File.WriteAllLines(path, lines);
        var e = Assert.Throws<InvalidDataException>(() => ResultsFile.Load(path));
        Assert.Contains("corrupt.jsonl:3", e.Message);
    }

    [Theory]
    [InlineData("4k,8k", new[] { 4096, 8192 })]
    [InlineData("1500, 2K", new[] { 1500, 2048 })]
    public void Lengths_parse_with_k_suffix(string text, int[] expected) => Assert.Equal(expected, EvalPlan.ParseLengths(text));

    [Theory]
    [InlineData("4q")]
    [InlineData("-1")]
    [InlineData("")]
    public void Bad_lengths_are_named(string text) => Assert.Throws<ArgumentException>(() => EvalPlan.ParseLengths(text));

    [Fact]
    public void Methods_split_at_spec_boundaries_not_inside_parameters()
    {
        Assert.Equal(["full", "snapkv:ratio=0.5,window=64", "knorm:ratio=0.25", "snapkv:ratio=0.5+int8"],
            EvalPlan.ParseMethods("full, snapkv:ratio=0.5,window=64,knorm:ratio=0.25,snapkv:ratio=0.5+int8"));
        Assert.Equal("a.gguf", EvalPlan.ModelKey("/x/y/a.gguf"));
    }
}
