using System.Text.Json;
using LongCtx.Train.Model;

namespace LongCtx.Train;

/// <summary>
/// Everything a training run depends on, read from one JSON file (e.g. models/builtin.json or
/// tools/train/configs/smoke.json). Same config + same seed + same corpus files = same model.
/// </summary>
internal sealed record TrainConfig
{
    /// <summary>Run name: the work directory is .cache/train/NAME and general.name of the GGUF.</summary>
    public string Name { get; init; } = "run";
    /// <summary>Seed of the initialization and of every batch (batch s draws from stream (seed, s)).</summary>
    public ulong Seed { get; init; } = 1;
    public ModelShape Model { get; init; } = new();
    public TokenizerConfig Tokenizer { get; init; } = new();
    public DataConfig Data { get; init; } = new();
    public OptimizerConfig Optimizer { get; init; } = new();
    /// <summary>Curriculum: stages run in order, each with its own batch shape.</summary>
    public List<Stage> Stages { get; init; } = [new()];
    /// <summary>Steps between checkpoints.</summary>
    public int CheckpointEvery { get; init; } = 100;
    /// <summary>Steps between log lines (every step goes to loss.tsv).</summary>
    public int LogEvery { get; init; } = 10;
    /// <summary>Worker threads (the caller included).</summary>
    public int Threads { get; init; } = 2;
    /// <summary>GGUF type of the exported matrices: f32, f16, bf16 or q8_0.</summary>
    public string ExportType { get; init; } = "f32";

    public int TotalSteps => Stages.Sum(s => s.Steps);

    /// <summary>Tokens in the batches of the first <paramref name="steps"/> steps (stages differ in batch × length).</summary>
    public long TokensAfter(long steps)
    {
        long tokens = 0;
        foreach (Stage s in Stages)
        {
            long n = Math.Min(steps, s.Steps);
            tokens += n * s.Batch * s.Length;
            steps -= n;
            if (steps == 0) break;
        }
        // Steps past the last stage repeat it (StageAt's rule).
        return tokens + steps * Stages[^1].Batch * Stages[^1].Length;
    }

    /// <exception cref="InvalidDataException">The file is not a valid config; the message names it and the problem.</exception>
    public static TrainConfig Load(string path)
    {
        TrainConfig c;
        try
        {
            c = JsonSerializer.Deserialize<TrainConfig>(File.ReadAllText(path), Json.Options) ?? throw new InvalidDataException($"{path}: empty config");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        try
        {
            c.Model.Validate();
            if (c.Stages.Count == 0 || c.Stages.Any(s => s.Steps < 1 || s.Batch < 1 || s.Length < 2)) throw new ArgumentException("every stage needs steps ≥ 1, batch ≥ 1, length ≥ 2");
            if (c.Stages.Any(s => s.Alphabet < 0 || s.Alphabet > c.Model.Vocab)) throw new ArgumentException($"a stage's alphabet must be 0 (all tokens) or 1..{c.Model.Vocab}");
            if (c.Optimizer.DecayStart < 0 || c.Optimizer.DecayStart >= c.TotalSteps) throw new ArgumentException($"optimizer.decayStart {c.Optimizer.DecayStart} must be in 0..{c.TotalSteps - 1} (the stages' steps)");
            if (c.Stages.Any(s => s.Length > c.Model.ContextLength)) throw new ArgumentException($"a stage is longer than the context length {c.Model.ContextLength}");
            if (c.Tokenizer.VocabSize != c.Model.Vocab) throw new ArgumentException($"tokenizer.vocabSize {c.Tokenizer.VocabSize} differs from model.vocab {c.Model.Vocab}");
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        return c;
    }
}

/// <summary>How the BPE vocabulary is learned.</summary>
internal sealed record TokenizerConfig
{
    public int VocabSize { get; init; } = 4096;
    /// <summary>Corpus roots (see <see cref="Data.Corpus.Read"/>).</summary>
    public List<string> Corpus { get; init; } = ["/usr/share/common-licenses", "/usr/share/doc|*.txt,*.md,README*,copyright"];
    public long CorpusBytes { get; init; } = 8 << 20;
}

/// <summary>The training mixture.</summary>
internal sealed record DataConfig
{
    /// <summary>Natural-text roots for language modelling (loss on every token).</summary>
    public List<string> Corpus { get; init; } = ["/usr/share/common-licenses", "/usr/share/doc|*.txt,*.md,README*,copyright"];
    public long CorpusBytes { get; init; } = 32 << 20;
    /// <summary>Task name → share of the sequences of a batch (normalized): text, repeat.</summary>
    public Dictionary<string, double> Mix { get; init; } = new() { ["text"] = 0.8, ["repeat"] = 0.2 };
    /// <summary>Loss = mean over sequences of each sequence's mean weighted loss (true), or Σ w·CE / Σ w over the batch (false).</summary>
    public bool LossPerSequence { get; init; }
}

/// <summary>AdamW and the learning-rate schedule (linear warm-up, cosine to the floor).</summary>
internal sealed record OptimizerConfig
{
    public float Lr { get; init; } = 3e-3f;
    public float MinLr { get; init; } = 3e-4f;
    public int Warmup { get; init; } = 100;
    /// <summary>Step where the cosine decay starts (the peak is held until then); 0 = right after warm-up.</summary>
    public int DecayStart { get; init; }
    public float WeightDecay { get; init; } = 0.1f;
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.95f;
    public float Clip { get; init; } = 1f;
}

/// <summary>One curriculum stage: <see cref="Steps"/> steps of <see cref="Batch"/> sequences of <see cref="Length"/> tokens.</summary>
internal sealed record Stage
{
    public int Steps { get; init; } = 100;
    public int Batch { get; init; } = 8;
    public int Length { get; init; } = 256;
    /// <summary>Random tokens of <c>repeat</c>/<c>recall</c> come from the first <see cref="Alphabet"/> ids (0 = all): a small alphabet first makes induction form sooner.</summary>
    public int Alphabet { get; init; }
    /// <summary>Mixture for this stage; null = the data config's.</summary>
    public Dictionary<string, double>? Mix { get; init; }
}
