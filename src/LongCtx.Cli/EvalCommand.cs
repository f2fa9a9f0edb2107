using System.CommandLine;
using LongCtx.Eval.Reports;
using LongCtx.Eval.Running;
using LongCtx.Eval.Tasks;
using LongCtx.Eval.Text;
using LongCtx.KvCache;
using Spectre.Console;

namespace LongCtx.Cli;

/// <summary>
/// <c>longctx eval ruler|babilong|niah|quick --model M --lengths 4k,8k --samples N --method SPEC[,SPEC...] --out DIR</c>:
/// runs a suite over models × methods × lengths × tasks × samples, appending to DIR/results.jsonl
/// (rerun the same command to resume), then writes DIR/report.md, DIR/report.html and DIR/plots/.
/// </summary>
internal static class EvalCommand
{
    public static Command Create(EvalEngineSource engines)
    {
        var suite = new Argument<string>("suite") { Description = "ruler, babilong, niah (needle grid) or quick" };
        suite.AcceptOnlyFromAmong([.. Suites.All.Select(s => s.Name)]);
        var model = new Option<string?>("--model", "-m") { Description = "GGUF model file(s), comma-separated" };
        var lengths = new Option<string?>("--lengths", "-l") { Description = "Context lengths, e.g. 4k,8k (default: the suite's)" };
        var samples = new Option<int?>("--samples", "-n") { Description = "Samples per task and length (default: the suite's)" };
        var method = new Option<string?>("--method") { Description = "KV method specs, e.g. full,snapkv:ratio=0.5 (default: the suite's)" };
        var tasks = new Option<string?>("--tasks") { Description = "Only these tasks of the suite, comma-separated" };
        var output = new Option<DirectoryInfo?>("--out", "-o") { Description = "Output folder (default: eval-out/SUITE)" };
        var seed = new Option<ulong>("--seed") { Description = "Run seed (samples derive from it)", DefaultValueFactory = _ => 42 };
        var threads = new Option<int>("--threads", "-t") { Description = "Worker threads (0 = physical cores)", DefaultValueFactory = _ => 0 };
        var kvType = new Option<KvCacheType>("--kv-type") { Description = "KV cache element type", DefaultValueFactory = _ => KvCacheType.F16 };
        var essay = new Option<string>("--essay") { Description = "Essay haystack source: licenses or prose (held-out variant)", DefaultValueFactory = _ => "licenses" };
        var reportOnly = new Option<bool>("--report-only") { Description = "Only rebuild the report from OUT/results.jsonl" };
        var command = new Command("eval", "Long-context evaluation: RULER, BABILong-style tasks and needle grids, with reports and plots")
        {
            suite, model, lengths, samples, method, tasks, output, seed, threads, kvType, essay, reportOnly,
        };
        command.SetAction(parse => CliErrors.Run(() => Run(engines, new Settings(
            Suites.Get(parse.GetValue(suite)!), parse.GetValue(model), parse.GetValue(lengths), parse.GetValue(samples), parse.GetValue(method),
            parse.GetValue(tasks), parse.GetValue(output), parse.GetValue(seed), parse.GetValue(threads), parse.GetValue(kvType),
            parse.GetValue(essay)!, parse.GetValue(reportOnly)))));
        return command;
    }

    internal sealed record Settings(
        Suite Suite, string? Models, string? Lengths, int? Samples, string? Methods, string? Tasks, DirectoryInfo? Out,
        ulong Seed, int Threads, KvCacheType KvType, string Essay, bool ReportOnly);

    internal static int Run(EvalEngineSource engines, Settings s)
    {
        string outDir = s.Out?.FullName ?? Path.Combine("eval-out", s.Suite.Name);
        Directory.CreateDirectory(outDir);
        string results = Path.Combine(outDir, "results.jsonl");
        int exit = 0;
        if (!s.ReportOnly)
        {
            EvalPlan plan = Plan(s);
            engines.EnsureUsable();
            engines.ValidateMethods(plan.Methods);
            exit = Execute(engines, s, plan, results);
        }
        if (ResultsFile.Load(results).Count == 0)
        {
            throw new InvalidOperationException($"{results} has no results to report");
        }
        var table = new ResultTable(ResultsFile.Load(results));
        string title = $"LongCtx {s.Suite.Name} evaluation";
        ReportFiles files = ReportWriter.Write(table, outDir, title);
        Console.WriteLine();
        Console.Write(MarkdownReport.Render(table, title));
        Console.WriteLine();
        AnsiConsole.MarkupLine($"[green]wrote[/] {Markup.Escape(files.Markdown)}, {Markup.Escape(files.Html)} and {files.Plots.Count} plots in {Markup.Escape(Path.Combine(outDir, "plots"))}");
        return exit;
    }

    private static EvalPlan Plan(Settings s)
    {
        if (string.IsNullOrWhiteSpace(s.Models))
        {
            throw new ArgumentException("--model is required (a GGUF file, or several separated by commas)");
        }
        var models = s.Models.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        foreach (string path in models)
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"model file not found: {path}", path);
            }
        }
        var options = new CatalogOptions { EssaySource = EssayCorpus.Parse(s.Essay) };
        IReadOnlyList<IEvalTask> tasks = s.Suite.Tasks(options);
        if (s.Tasks is { } only)
        {
            var wanted = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            foreach (string w in wanted.Where(w => tasks.All(t => t.Name != w)))
            {
                throw new ArgumentException($"--tasks: '{w}' is not a task of {s.Suite.Name} (its tasks: {string.Join(", ", tasks.Select(t => t.Name))})");
            }
            tasks = tasks.Where(t => wanted.Contains(t.Name)).ToList();
        }
        int samples = s.Samples ?? s.Suite.Samples;
        if (samples < 1)
        {
            throw new ArgumentException($"--samples must be at least 1 (got {samples})");
        }
        return new EvalPlan
        {
            Suite = s.Suite.Name,
            Models = models,
            Methods = s.Methods is { } m ? EvalPlan.ParseMethods(m) : s.Suite.Methods,
            Lengths = EvalPlan.ParseLengths(s.Lengths ?? s.Suite.Lengths),
            Tasks = tasks,
            Samples = samples,
            Seed = s.Seed,
        };
    }

    private static int Execute(EvalEngineSource engines, Settings s, EvalPlan plan, string results)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // First Ctrl+C: finish the current answer, then stop. A second one ends the process at
            // once, which is safe too: a record cut off mid-write is dropped on resume.
            e.Cancel = !cancel.IsCancellationRequested;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        var progress = new SpectreProgress();
        RunSummary? summary = null;
        bool interrupted = false;
        try
        {
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    progress.Task = ctx.AddTask($"{plan.Suite}", autoStart: true, maxValue: Math.Max(1, plan.Total));
                    try
                    {
                        summary = new EvalRunner(m => engines.Open(m, s.Threads, s.KvType), progress).Run(plan, results, cancel.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        interrupted = true;
                    }
                });
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        foreach (string w in progress.Warnings.Distinct())
        {
            AnsiConsole.MarkupLine($"[yellow]warning:[/] {Markup.Escape(w)}");
        }
        if (interrupted)
        {
            AnsiConsole.MarkupLine($"[yellow]interrupted[/]: finished answers are in {Markup.Escape(results)}; run the same command again to resume");
            return 130;
        }
        AnsiConsole.MarkupLine($"{summary!.Completed} answers run, {summary.Resumed} found in {Markup.Escape(results)}, {summary.Skipped} skipped");
        return 0;
    }

    /// <summary>Drives a Spectre progress bar (with ETA) from the runner's events.</summary>
    private sealed class SpectreProgress : IEvalProgress
    {
        public ProgressTask? Task { get; set; }
        public List<string> Warnings { get; } = [];

        public void Started(int total, int alreadyDone)
        {
            Task!.MaxValue = Math.Max(1, total);
            Task.Value = alreadyDone;
        }

        public void Status(string text) => Task!.Description = Markup.Escape(text);

        public void Completed(EvalRecord record)
        {
            Task!.Increment(1);
            Task.Description = Markup.Escape($"{record.Model} {record.Method} {record.Task} {MarkdownReport.LengthName(record.Length)} #{record.Sample}: {record.Score:0.##}");
        }

        public void Warning(string text) => Warnings.Add(text);
    }
}
