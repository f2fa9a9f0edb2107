using System.Globalization;
using LongCtx.Train.Model;

namespace LongCtx.Train;

/// <summary>Entry point of <c>longctx-train</c>.</summary>
internal static class Program
{
    private const string Usage = """
        usage: longctx-train COMMAND [key=value ...]
          train config=FILE [workDir=.cache/train/NAME] [minutes=0] [steps=0] [fresh=false]
                                                     train (resuming from the work directory's checkpoint)
          export config=FILE out=FILE.gguf [workDir=...]  the work directory's checkpoint as a GGUF
          plot config=FILE out=FILE.png [log=WORKDIR/loss.tsv] [window=50]
                                                     the loss log's curves (loss, per-task answer accuracy) as a PNG
          samples config=FILE [task=niah] [length=512] [count=2] [step=0]
                                                     print training sequences of a task at that step (its stage's alphabet; answers in [[ ]]) and the fill rate
          bench-gemm [threads=2]                     GFLOPS of the GEMM shapes of a training step
          bench-attention [T=512 B=4 threads=2]       GFLOPS of the tiled attention forward and backward
          bench-step [layers=6 dim=256 heads=8 kvHeads=2 ffn=704 vocab=4096 B=16 T=512 threads=2 seconds=20]
                                                     tokens/s of forward+backward+AdamW
        """;

    private static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        try
        {
            var o = Options.Parse(args.AsSpan(1));
            switch (args[0])
            {
                case "train":
                    string configPath = o.String("config") ?? throw new ArgumentException("train needs config=FILE");
                    TrainConfig config = TrainConfig.Load(configPath);
                    var run = new RunOptions(
                        o.String("workDir") ?? Path.Combine(".cache", "train", config.Name),
                        o.Double("minutes", 0), o.Int("steps", 0), Resume: o.String("fresh") is not ("true" or "1"));
                    o.ThrowOnUnused();
                    new Trainer(config, run, Console.Out).Run();
                    return 0;
                case "export":
                {
                    TrainConfig c = TrainConfig.Load(o.String("config") ?? throw new ArgumentException("export needs config=FILE"));
                    var r = new RunOptions(o.String("workDir") ?? Path.Combine(".cache", "train", c.Name));
                    new Trainer(c, r, Console.Out).ExportCheckpoint(o.String("out") ?? throw new ArgumentException("export needs out=FILE.gguf"));
                    break;
                }
                case "plot":
                {
                    TrainConfig c = TrainConfig.Load(o.String("config") ?? throw new ArgumentException("plot needs config=FILE"));
                    string log = o.String("log") ?? Path.Combine(o.String("workDir") ?? Path.Combine(".cache", "train", c.Name), Trainer.LossFile);
                    string png = o.String("out") ?? throw new ArgumentException("plot needs out=FILE.png");
                    int rows = LossPlot.Write(log, c, png, o.Int("window", 50));
                    Console.WriteLine($"wrote {png} from {rows} steps of {log}");
                    break;
                }
                case "samples":
                {
                    TrainConfig c = TrainConfig.Load(o.String("config") ?? throw new ArgumentException("samples needs config=FILE"));
                    var r = new RunOptions(o.String("workDir") ?? Path.Combine(".cache", "train", c.Name));
                    new Trainer(c, r, Console.Out).ShowSamples(o.String("task") ?? "niah", o.Int("length", 512), o.Int("count", 2), o.Int("step", 0));
                    break;
                }
                case "bench-gemm":
                    Bench.GemmSpeed(o.Int("threads", 2));
                    break;
                case "bench-attention":
                    Bench.AttentionSpeed(o.Int("threads", 2), o.Int("T", 512), o.Int("B", 4));
                    break;
                case "bench-tiles":
                    Bench.TileSpeed();
                    break;
                case "bench-step":
                    var shape = new ModelShape
                    {
                        Layers = o.Int("layers", 6), Dim = o.Int("dim", 256), Heads = o.Int("heads", 8), KvHeads = o.Int("kvHeads", 2),
                        Ffn = o.Int("ffn", 704), Vocab = o.Int("vocab", 4096),
                    };
                    Bench.StepSpeed(shape, o.Int("B", 16), o.Int("T", 512), o.Int("threads", 2), o.Double("seconds", 20));
                    break;
                default:
                    Console.Error.WriteLine($"unknown command '{args[0]}'\n{Usage}");
                    return 2;
            }
            o.ThrowOnUnused();
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }
}

/// <summary>key=value arguments.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public static Options Parse(ReadOnlySpan<string> args)
    {
        var o = new Options();
        foreach (string a in args)
        {
            int eq = a.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ArgumentException($"expected key=value, got '{a}'");
            o._values[a[..eq]] = a[(eq + 1)..];
        }
        return o;
    }

    public string? String(string key)
    {
        _used.Add(key);
        return _values.GetValueOrDefault(key);
    }

    public int Int(string key, int fallback) => String(key) is { } s
        ? int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : throw new ArgumentException($"{key}={s} is not an integer")
        : fallback;

    public double Double(string key, double fallback) => String(key) is { } s
        ? double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : throw new ArgumentException($"{key}={s} is not a number")
        : fallback;

    public void ThrowOnUnused()
    {
        foreach (string k in _values.Keys)
        {
            if (!_used.Contains(k)) throw new ArgumentException($"unknown option '{k}'");
        }
    }
}
