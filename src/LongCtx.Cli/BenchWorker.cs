using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LongCtx.Generation;
using LongCtx.Models;
using LongCtx.Reference;

namespace LongCtx.Cli;

/// <summary>
/// The child process of <c>longctx bench</c>: runs every test of one engine and prints one JSON
/// line per test. Prefill (ppP) starts from an empty cache each repetition; a decode test at
/// depth D first prefills D tokens (untimed), warms up with one token, then times N decode steps
/// per repetition, the repetitions following one another (so the last runs at depth D + (r−1)·N).
/// </summary>
internal static class BenchWorker
{
    public const string LongCtx = "longctx";
    public const string LlamaCpp = "llama.cpp";

    public static int Run(string engine, string path, BenchSettings s)
    {
        Func<int, IBenchEngine> open = engine switch
        {
            LongCtx => ctx => new LongCtxEngine(path, s.Threads, ctx),
            LlamaCpp => ctx => new LlamaEngine(path, s.Threads, ctx, s.LlamaFlashAttention),
            _ => throw new ArgumentException($"--worker: unknown engine '{engine}'"),
        };
        var rng = new Random(42);
        if (s.Prompt > 0)
        {
            using IBenchEngine e = open(s.Prompt);
            int[] tokens = RandomTokens(rng, e.VocabSize, s.Prompt);
            e.Evaluate(tokens.AsSpan(0, Math.Min(16, tokens.Length))); // warm-up: JIT, scratch, threads
            var samples = new List<double>();
            var cpu = new List<double>();
            for (int rep = 0; rep < s.Repetitions; rep++)
            {
                e.Reset();
                TimeSpan c0 = Process.GetCurrentProcess().TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                e.Evaluate(tokens);
                samples.Add(tokens.Length / clock.Elapsed.TotalSeconds);
                cpu.Add(tokens.Length / (Process.GetCurrentProcess().TotalProcessorTime - c0).TotalSeconds);
            }
            Emit(engine, $"pp{s.Prompt}", samples, cpu);
        }
        if (s.Gen > 0)
        {
            foreach (int depth in s.Depths)
            {
                using IBenchEngine e = open(depth + 1 + s.Gen * s.Repetitions);
                if (depth > 0)
                {
                    e.Evaluate(RandomTokens(rng, e.VocabSize, depth));
                }
                int[] one = [rng.Next(e.VocabSize - 2)];
                e.Evaluate(one); // warm-up
                var samples = new List<double>();
                var cpu = new List<double>();
                for (int rep = 0; rep < s.Repetitions; rep++)
                {
                    TimeSpan c0 = Process.GetCurrentProcess().TotalProcessorTime;
                    var clock = Stopwatch.StartNew();
                    for (int i = 0; i < s.Gen; i++)
                    {
                        one[0] = (i * 7919 + rep) % (e.VocabSize - 2);
                        e.Evaluate(one);
                    }
                    samples.Add(s.Gen / clock.Elapsed.TotalSeconds);
                    cpu.Add(s.Gen / (Process.GetCurrentProcess().TotalProcessorTime - c0).TotalSeconds);
                }
                Emit(engine, depth == 0 ? $"tg{s.Gen}" : $"tg{s.Gen}@d{depth}", samples, cpu);
            }
        }
        return 0;
    }

    private static int[] RandomTokens(Random rng, int vocab, int n)
    {
        var t = new int[n];
        for (int i = 0; i < n; i++)
        {
            t[i] = rng.Next(vocab - 2); // not the control tokens at the end of synthetic vocabularies
        }
        return t;
    }

    private static void Emit(string engine, string test, List<double> samples, List<double> cpu)
    {
        double mean = samples.Average();
        double sd = samples.Count > 1 ? Math.Sqrt(samples.Sum(x => (x - mean) * (x - mean)) / (samples.Count - 1)) : 0;
        var r = new BenchResult { Engine = engine, Test = test, TokensPerSecond = mean, Stddev = sd, Samples = samples.ToArray(), CpuTokensPerSecond = cpu.Max(), PeakRssBytes = PeakRss() };
        Console.WriteLine(JsonSerializer.Serialize(r, BenchJson.Default.BenchResult));
        Console.Out.Flush();
    }

    /// <summary>VmHWM of this process (Linux), else the working set's peak.</summary>
    private static long PeakRss()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
        {
            foreach (string line in File.ReadLines(status))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    string kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        return Process.GetCurrentProcess().PeakWorkingSet64;
    }

    private interface IBenchEngine : IDisposable
    {
        int VocabSize { get; }
        void Evaluate(ReadOnlySpan<int> tokens);
        void Reset();
    }

    private sealed class LongCtxEngine : IBenchEngine
    {
        private readonly Model _model;
        private readonly Session _session;

        public LongCtxEngine(string path, int threads, int context)
        {
            _model = Model.Load(path, new ModelOptions { Threads = threads });
            _session = new Session(_model, new SessionOptions { ContextSize = context });
        }

        public int VocabSize => _model.Config.VocabSize;
        public void Evaluate(ReadOnlySpan<int> tokens) => _session.Prefill(tokens);
        public void Reset() => _session.Reset();
        public void Dispose() => _model.Dispose();
    }

    private sealed class LlamaEngine : IBenchEngine
    {
        private readonly LlamaReference _llama;

        public LlamaEngine(string path, int threads, int context, string flash)
        {
            _llama = LlamaReference.Load(path, new LlamaReferenceOptions
            {
                ContextSize = context,
                BatchSize = Math.Min(512, context),
                Threads = threads,
                KvCacheType = LlamaKvCacheType.F16,
                FlashAttention = flash switch { "on" => LlamaFlashAttention.Enabled, "off" => LlamaFlashAttention.Disabled, _ => LlamaFlashAttention.Auto },
            });
        }

        public int VocabSize => _llama.VocabSize;
        public void Evaluate(ReadOnlySpan<int> tokens) => _llama.Evaluate(tokens);
        public void Reset() => _llama.Reset();
        public void Dispose() => _llama.Dispose();
    }
}
