using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LongCtx.Models;
using LongCtx.Tensors;
using Spectre.Console;

namespace LongCtx.Cli;

/// <summary>
/// <c>longctx bench</c>, like llama-bench: prefill (ppP) and decode (tgN, tgN@dD after D untimed
/// tokens) speeds, optionally side by side with llama.cpp on the same file and threads. Each
/// engine runs in its own child process (the hidden <c>--worker</c> mode), one after the other,
/// so that neither's threads or memory disturb the other and each gets its own peak RSS.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo?>("--model", "-m") { Description = "GGUF model file" };
        var synthetic = new Option<string?>("--synthetic") { Description = $"SHAPE:TYPE, a random-weight model of a real shape written to the cache folder: shapes {string.Join(", ", SyntheticShape.Known.Keys)}; types {string.Join(", ", SyntheticMix.Names)}" };
        var prompt = new Option<int>("-p", "--n-prompt") { Description = "Prefill test tokens (0 = none)", DefaultValueFactory = _ => 512 };
        var gen = new Option<int>("-n", "--n-gen") { Description = "Decode test tokens (0 = none)", DefaultValueFactory = _ => 128 };
        var depth = new Option<string>("-d", "--n-depth") { Description = "Context depths before the decode test, comma-separated", DefaultValueFactory = _ => "0" };
        var reps = new Option<int>("-r", "--repetitions") { Description = "Timed repetitions of each test", DefaultValueFactory = _ => 3 };
        var threads = new Option<int>("--threads", "-t") { Description = "Threads for both engines (0 = physical cores)", DefaultValueFactory = _ => 0 };
        var compare = new Option<string?>("--compare") { Description = "Also run 'llama.cpp' (libllama from the npm package) on the same file and threads" };
        var flash = new Option<string>("--llama-flash-attn") { Description = "llama.cpp's flash attention: auto (its default, on for the CPU), on or off", DefaultValueFactory = _ => "auto" };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of the table" };
        var cacheDir = new Option<DirectoryInfo?>("--cache-dir") { Description = "Folder for synthetic models (default ~/.cache/longctx/bench)" };
        var worker = new Option<string?>("--worker") { Hidden = true };
        var command = new Command("bench", "Measure prefill and decode speed, optionally side by side with llama.cpp")
        {
            model, synthetic, prompt, gen, depth, reps, threads, compare, flash, json, cacheDir, worker,
        };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var settings = new BenchSettings
            {
                Prompt = parse.GetValue(prompt),
                Gen = parse.GetValue(gen),
                Depths = ParseDepths(parse.GetValue(depth)!),
                Repetitions = parse.GetValue(reps),
                Threads = parse.GetValue(threads) > 0 ? parse.GetValue(threads) : Cpu.PhysicalCores,
                LlamaFlashAttention = ParseFlash(parse.GetValue(flash)!),
            };
            string? workerEngine = parse.GetValue(worker);
            if (workerEngine != null)
            {
                return BenchWorker.Run(workerEngine, parse.GetValue(model)?.FullName ?? throw new ArgumentException("--worker needs -m"), settings);
            }
            string path = ResolveModel(parse.GetValue(model), parse.GetValue(synthetic), parse.GetValue(cacheDir));
            string? peer = parse.GetValue(compare);
            if (peer != null && !peer.Equals("llama.cpp", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"--compare: unknown engine '{peer}' (only 'llama.cpp')");
            }
            return Run(path, settings, peer != null, parse.GetValue(json));
        }));
        return command;
    }

    private static int Run(string path, BenchSettings settings, bool compare, bool json)
    {
        var results = new List<BenchResult>();
        var engines = compare ? new[] { BenchWorker.LongCtx, BenchWorker.LlamaCpp } : new[] { BenchWorker.LongCtx };
        foreach (string engine in engines)
        {
            if (!json)
            {
                AnsiConsole.MarkupLine($"[grey]running {engine} on {Markup.Escape(Path.GetFileName(path))} ({settings.Threads} threads)...[/]");
            }
            results.AddRange(RunWorker(engine, path, settings));
        }
        if (json)
        {
            Console.WriteLine(ToJson(path, settings, results));
        }
        else
        {
            PrintTable(path, settings, results, compare);
        }
        return 0;
    }

    /// <summary>Runs one engine's tests in a child process and reads its result lines.</summary>
    private static List<BenchResult> RunWorker(string engine, string path, BenchSettings s)
    {
        string exe = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find the longctx executable to start a worker");
        var info = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet")
        {
            info.ArgumentList.Add(typeof(BenchCommand).Assembly.Location);
        }
        foreach (string a in new[] { "bench", "--worker", engine, "-m", path, "-p", Inv(s.Prompt), "-n", Inv(s.Gen), "-d", string.Join(',', s.Depths),
            "-r", Inv(s.Repetitions), "-t", Inv(s.Threads), "--llama-flash-attn", s.LlamaFlashAttention })
        {
            info.ArgumentList.Add(a);
        }
        using Process child = Process.Start(info) ?? throw new InvalidOperationException($"could not start a {engine} worker");
        Task<string> errors = child.StandardError.ReadToEndAsync();
        var results = new List<BenchResult>();
        string? line;
        while ((line = child.StandardOutput.ReadLine()) != null)
        {
            if (line.StartsWith('{'))
            {
                results.Add(JsonSerializer.Deserialize(line, BenchJson.Default.BenchResult)!);
            }
        }
        child.WaitForExit();
        if (child.ExitCode != 0)
        {
            throw new InvalidOperationException($"the {engine} worker failed (exit {child.ExitCode}): {errors.Result.Trim()}");
        }
        return results;
    }

    private static void PrintTable(string path, BenchSettings s, List<BenchResult> results, bool compare)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("test").AddColumn(new TableColumn("LongCtx t/s").RightAligned());
        if (compare)
        {
            table.AddColumn(new TableColumn("llama.cpp t/s").RightAligned()).AddColumn(new TableColumn("ratio").RightAligned());
        }
        foreach (string test in results.Select(r => r.Test).Distinct())
        {
            BenchResult? mine = results.FirstOrDefault(r => r.Test == test && r.Engine == BenchWorker.LongCtx);
            BenchResult? peer = results.FirstOrDefault(r => r.Test == test && r.Engine == BenchWorker.LlamaCpp);
            var row = new List<string> { test, Cell(mine) };
            if (compare)
            {
                row.Add(Cell(peer));
                row.Add(mine != null && peer != null && peer.TokensPerSecond > 0 ? Ratio(mine.TokensPerSecond / peer.TokensPerSecond) : "-");
            }
            table.AddRow(row.ToArray());
        }
        table.Caption($"{Path.GetFileName(path)} | {s.Threads} threads | {Cpu.Name} | kernels {Kernels.Level} | llama.cpp flash attention {s.LlamaFlashAttention}");
        AnsiConsole.Write(table);
        foreach (IGrouping<string, BenchResult> g in results.GroupBy(r => r.Engine))
        {
            AnsiConsole.MarkupLine($"{Markup.Escape(g.Key)}: peak RSS {g.Max(r => r.PeakRssBytes) / (1024.0 * 1024.0):F0} MiB");
        }

        static string Cell(BenchResult? r) => r == null ? "-" : $"{r.TokensPerSecond:F1} ± {r.Stddev:F1} [grey](cpu {r.CpuTokensPerSecond:F0})[/]";
        static string Ratio(double x) => x >= 1 ? $"[green]{x:F2}[/]" : $"[yellow]{x:F2}[/]";
    }

    private static string ToJson(string path, BenchSettings s, List<BenchResult> results)
    {
        var machine = new JsonObject
        {
            ["cpu"] = Cpu.Name,
            ["logical_cores"] = Environment.ProcessorCount,
            ["physical_cores"] = Cpu.PhysicalCores,
            ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            ["dotnet"] = Environment.Version.ToString(),
            ["kernels"] = Kernels.Level.ToString(),
        };
        var config = new JsonObject
        {
            ["model"] = path,
            ["threads"] = s.Threads,
            ["repetitions"] = s.Repetitions,
            ["llama_cpp_package"] = Reference.OracleFiles.Package,
            ["llama_cpp_flash_attn"] = s.LlamaFlashAttention,
        };
        var list = new JsonArray();
        foreach (BenchResult r in results)
        {
            list.Add(JsonSerializer.SerializeToNode(r, BenchJson.Default.BenchResult));
        }
        var root = new JsonObject { ["machine"] = machine, ["config"] = config, ["results"] = list };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>The model to measure: -m, or a synthetic model written once into the cache folder.</summary>
    private static string ResolveModel(FileInfo? model, string? synthetic, DirectoryInfo? cacheDir)
    {
        if ((model == null) == (synthetic == null))
        {
            throw new ArgumentException("give exactly one of -m FILE and --synthetic SHAPE:TYPE");
        }
        if (model != null)
        {
            return model.Exists ? model.FullName : throw new FileNotFoundException($"model file not found: {model.FullName}", model.FullName);
        }
        string[] parts = synthetic!.Split(':');
        if (parts.Length != 2 || !SyntheticShape.Known.TryGetValue(parts[0], out SyntheticShape? shape))
        {
            throw new ArgumentException($"--synthetic: expected SHAPE:TYPE with SHAPE one of {string.Join(", ", SyntheticShape.Known.Keys)}, got '{synthetic}'");
        }
        SyntheticMix mix = SyntheticMix.Parse(parts[1]);
        string dir = cacheDir?.FullName ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "longctx", "bench");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, $"{parts[0]}-{mix.Name}.gguf");
        if (!File.Exists(path))
        {
            string tmp = path + ".tmp";
            AnsiConsole.MarkupLine($"[grey]writing {Markup.Escape(path)}...[/]");
            SyntheticModel.Write(tmp, shape, mix);
            File.Move(tmp, path, overwrite: true);
        }
        return path;
    }

    private static int[] ParseDepths(string text)
    {
        var depths = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int d) || d < 0)
            {
                throw new ArgumentException($"-d: '{part}' is not a depth (a token count ≥ 0)");
            }
            depths.Add(d);
        }
        return depths.Count > 0 ? depths.ToArray() : [0];
    }

    private static string ParseFlash(string text) => text.ToLowerInvariant() switch
    {
        "auto" or "on" or "off" => text.ToLowerInvariant(),
        _ => throw new ArgumentException($"--llama-flash-attn: '{text}' is not auto, on or off"),
    };

    private static string Inv(int v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What to measure.</summary>
internal sealed record BenchSettings
{
    public int Prompt { get; init; }
    public int Gen { get; init; }
    public int[] Depths { get; init; } = [0];
    public int Repetitions { get; init; } = 3;
    public int Threads { get; init; }
    public string LlamaFlashAttention { get; init; } = "auto";
}

/// <summary>One test's speed for one engine (one JSON result line).</summary>
internal sealed record BenchResult
{
    [System.Text.Json.Serialization.JsonPropertyName("engine")] public string Engine { get; init; } = "";
    [System.Text.Json.Serialization.JsonPropertyName("test")] public string Test { get; init; } = "";
    [System.Text.Json.Serialization.JsonPropertyName("tokens_per_second")] public double TokensPerSecond { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("stddev")] public double Stddev { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("samples")] public double[] Samples { get; init; } = [];
    [System.Text.Json.Serialization.JsonPropertyName("peak_rss_bytes")] public long PeakRssBytes { get; init; }
    /// <summary>Tokens per second of the process's CPU time (best repetition): with one thread, a load-independent view on a busy machine.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("cpu_tokens_per_second")] public double CpuTokensPerSecond { get; init; }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(BenchResult))]
internal sealed partial class BenchJson : System.Text.Json.Serialization.JsonSerializerContext;
