using LongCtx.Train.Optim;
using LongCtx.Train.Model;

namespace LongCtx.Train.Tests;

/// <summary>The training loop: the loss falls, and a run resumed from a checkpoint continues bit for bit.</summary>
public sealed class TrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("longctx-train-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TrainConfig Config(int steps) => new()
    {
        Name = "test",
        Seed = 7,
        Model = new ModelShape { Vocab = 400, Dim = 32, Layers = 2, Heads = 2, KvHeads = 1, Ffn = 64, ContextLength = 256 },
        Tokenizer = new TokenizerConfig { VocabSize = 400, Corpus = ["/usr/share/common-licenses"], CorpusBytes = 300_000 },
        Data = new DataConfig { Corpus = ["/usr/share/common-licenses"], CorpusBytes = 300_000, Mix = new() { ["text"] = 0.5, ["repeat"] = 0.5 } },
        Optimizer = new OptimizerConfig { Lr = 3e-3f, MinLr = 3e-4f, Warmup = 3 },
        Stages = [new Stage { Steps = steps / 2, Batch = 4, Length = 64 }, new Stage { Steps = steps - steps / 2, Batch = 2, Length = 128 }],
        CheckpointEvery = 1000,
        LogEvery = 1000,
        Threads = 2,
    };

    private string Run(string name, TrainConfig config, long maxSteps, bool resume, string? copyFrom = null)
    {
        string dir = Path.Combine(_dir, name);
        if (copyFrom != null)
        {
            Directory.CreateDirectory(dir);
            foreach (string f in Directory.GetFiles(copyFrom)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)), overwrite: true);
        }
        new Trainer(config, new RunOptions(dir, MaxSteps: maxSteps, Resume: resume), TextWriter.Null).Run();
        return dir;
    }

    [Fact]
    public void ResumedRunIsBitIdenticalToAnUninterruptedOne()
    {
        TrainConfig config = Config(8);
        string straight = Run("straight", config, 8, resume: false);
        string first = Run("first", config, 5, resume: false);
        string resumed = Run("resumed", config, 8, resume: true, copyFrom: first);

        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, Trainer.CheckpointFile)), File.ReadAllBytes(Path.Combine(resumed, Trainer.CheckpointFile)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "test.gguf")), File.ReadAllBytes(Path.Combine(resumed, "test.gguf")));
        // The resumed log holds each step once, with the same losses (the seconds column aside).
        static string[] Losses(string dir) => File.ReadAllLines(Path.Combine(dir, Trainer.LossFile)).Skip(1).Select(l => string.Join('\t', l.Split('\t').Where((_, i) => i != 5))).ToArray();
        Assert.Equal(Losses(straight), Losses(resumed));
        Assert.Equal(8, Losses(resumed).Length);
    }

    [Fact]
    public void LossFalls()
    {
        TrainConfig config = Config(40) with { Data = Config(40).Data with { Mix = new() { ["text"] = 1.0 } } };
        string dir = Run("falls", config, 40, resume: false);
        double[] losses = File.ReadAllLines(Path.Combine(dir, Trainer.LossFile)).Skip(1)
            .Select(l => double.Parse(l.Split('\t')[3], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.True(losses[^5..].Average() < losses[..5].Average() - 0.3, $"loss {losses[..5].Average():F3} → {losses[^5..].Average():F3}");
    }

    [Fact]
    public void BadConfigIsNamed()
    {
        string path = Path.Combine(_dir, "bad.json");
        File.WriteAllText(path, """{ "model": { "dim": 100, "heads": 8 } }""");
        var e = Assert.Throws<InvalidDataException>(() => TrainConfig.Load(path));
        Assert.Contains("bad.json", e.Message, StringComparison.Ordinal);
        Assert.Contains("heads", e.Message, StringComparison.Ordinal);
        File.WriteAllText(path, """{ "modle": {} }""");
        e = Assert.Throws<InvalidDataException>(() => TrainConfig.Load(path));
        Assert.Contains("modle", e.Message, StringComparison.Ordinal);
        File.WriteAllText(path, """{ "stages": [ { "steps": 1, "batch": 1, "length": 8, "alphabet": 5000 } ] }""");
        e = Assert.Throws<InvalidDataException>(() => TrainConfig.Load(path));
        Assert.Contains("alphabet", e.Message, StringComparison.Ordinal);
        File.WriteAllText(path, """{ "optimizer": { "decayStart": 100 }, "stages": [ { "steps": 100, "batch": 1, "length": 8 } ] }""");
        e = Assert.Throws<InvalidDataException>(() => TrainConfig.Load(path));
        Assert.Contains("decayStart", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ScheduleHoldsThePeakUntilTheDecayStarts()
    {
        var wsd = new LrSchedule(1e-3f, 1e-4f, Warmup: 10, Total: 100, DecayStart: 60);
        Assert.Equal(1e-4f, wsd.At(0), 6);
        Assert.Equal(1e-3f, wsd.At(10));
        Assert.Equal(1e-3f, wsd.At(59));
        Assert.Equal(0.55e-3f, wsd.At(80), 6);        // half-way through the decay: the mean of peak and floor
        Assert.Equal(1e-4f, wsd.At(100));
        var cosine = new LrSchedule(1e-3f, 1e-4f, Warmup: 10, Total: 110);
        Assert.Equal(0.55e-3f, cosine.At(60), 6);     // no decay start: cosine right after warm-up
    }

    [Fact]
    public void TokensCountEachStagesBatch()
    {
        var c = new TrainConfig { Stages = [new Stage { Steps = 10, Batch = 4, Length = 32 }, new Stage { Steps = 5, Batch = 2, Length = 256 }] };
        Assert.Equal(3 * 128, c.TokensAfter(3));
        Assert.Equal(10 * 128 + 2 * 512, c.TokensAfter(12));
        Assert.Equal(10 * 128 + 7 * 512, c.TokensAfter(17));   // past the end: the last stage repeats
    }
}
