using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using LongCtx.Tensors;
using LongCtx.Train.Data;
using LongCtx.Train.Export;
using LongCtx.Train.Model;
using LongCtx.Train.Optim;
using LongCtx.Train.Tokenizer;

namespace LongCtx.Train;

/// <summary>Settings of one invocation (not of the model): where, how long, whether to resume.</summary>
/// <param name="WorkDir">Vocabulary, tokenized corpus, checkpoint, logs and the GGUF go here.</param>
/// <param name="MaxMinutes">Stop (with a checkpoint) after the step that passes this wall time; 0 = no limit.</param>
/// <param name="MaxSteps">Stop after this step number (for tests); 0 = the config's total.</param>
/// <param name="Resume">Continue from the work directory's checkpoint when there is one.</param>
internal sealed record RunOptions(string WorkDir, double MaxMinutes = 0, long MaxSteps = 0, bool Resume = true);

/// <summary>
/// The training loop: tokenizer and tokenized corpus (built once per work directory), model,
/// AdamW, curriculum stages, loss log, checkpoints, GGUF export.
/// </summary>
internal sealed class Trainer(TrainConfig config, RunOptions run, TextWriter log)
{
    public const string CheckpointFile = "checkpoint.bin", LossFile = "loss.tsv", VocabFile = "vocab.json", TokensFile = "corpus.tokens";

    /// <summary>Runs until the config's last step, the step limit or the time limit. Returns the last completed step.</summary>
    public long Run()
    {
        Directory.CreateDirectory(run.WorkDir);
        var clock = Stopwatch.StartNew();
        BpeVocabulary vocab = LoadOrTrainVocabulary();
        int[] text = LoadOrTokenizeCorpus(vocab);

        using var pool = new WorkerPool(config.Threads);
        var model = new TrainModel(config.Model, pool);
        model.Initialize(config.Seed);
        OptimizerConfig oc = config.Optimizer;
        var opt = new AdamW(model.Layout, new AdamWOptions { Beta1 = oc.Beta1, Beta2 = oc.Beta2, WeightDecay = oc.WeightDecay, ClipNorm = oc.Clip });
        var schedule = new LrSchedule(oc.Lr, oc.MinLr, oc.Warmup, config.TotalSteps, oc.DecayStart);
        string checkpoint = Path.Combine(run.WorkDir, CheckpointFile);
        long step = 0;
        if (run.Resume && File.Exists(checkpoint))
        {
            step = Checkpoint.Load(checkpoint, model.Params, opt, config.Model);
            log.WriteLine($"resumed from {checkpoint} after step {step}");
        }
        TruncateLossLog(step);
        log.WriteLine($"model: {config.Model} — {model.Layout.Count:N0} parameters; corpus {text.Length:N0} tokens; {config.TotalSteps} steps in {config.Stages.Count} stage(s)");

        BatchSource source = NewBatchSource(vocab, new BpeEncoder(vocab), text);
        long last = run.MaxSteps > 0 ? Math.Min(run.MaxSteps, config.TotalSteps) : config.TotalSteps;
        using var lossLog = new StreamWriter(Path.Combine(run.WorkDir, LossFile), append: true);
        if (lossLog.BaseStream.Length == 0) lossLog.WriteLine("step\ttokens\tlr\tloss\tgrad_norm\tseconds\t" + string.Join('\t', BatchSource.Tasks.Select(t => $"loss_{t}\tacc_{t}")));
        Batch? batch = null;
        int[] taskOf = [];
        float[] rowLoss = [];
        bool[] rowHit = [];
        var window = clock.Elapsed;
        long windowTokens = 0;
        double windowLoss = 0;
        int windowSteps = 0;
        while (step < last)
        {
            Stage stage = StageAt(step);
            if (batch == null || batch.Sequences != stage.Batch || batch.Length != stage.Length)
            {
                batch = new Batch(stage.Batch, stage.Length);
                taskOf = new int[stage.Batch];
                rowLoss = new float[batch.Count];
                rowHit = new bool[batch.Count];
            }
            source.Fill(batch, step, stage.Mix ?? config.Data.Mix, taskOf, stage.Alphabet);
            double loss = model.ForwardBackward(batch);
            float lr = schedule.At(step);
            double norm = opt.Update(model.Params, model.Grads, lr, pool);
            step++;
            if (!double.IsFinite(loss)) throw new InvalidOperationException($"loss is {loss} at step {step}");

            model.LastLosses(rowLoss, rowHit);
            lossLog.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{step}\t{config.TokensAfter(step)}\t{lr:G4}\t{loss:F5}\t{norm:F4}\t{clock.Elapsed.TotalSeconds:F1}\t{PerTask(batch, taskOf, rowLoss, rowHit)}"));
            windowTokens += batch.Count;
            windowLoss += loss;
            windowSteps++;
            bool timeUp = run.MaxMinutes > 0 && clock.Elapsed.TotalMinutes >= run.MaxMinutes;
            if (step % config.LogEvery == 0 || step == last || timeUp)
            {
                double seconds = (clock.Elapsed - window).TotalSeconds;
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"step {step,6}/{config.TotalSteps}  loss {windowLoss / windowSteps:F4}  lr {lr:G3}  |g| {norm:F3}  {windowTokens / seconds:F0} tok/s  T={stage.Length} B={stage.Batch}  {clock.Elapsed:hh\\:mm\\:ss}"));
                lossLog.Flush();
                window = clock.Elapsed;
                windowTokens = 0;
                windowLoss = 0;
                windowSteps = 0;
            }
            if (step % config.CheckpointEvery == 0 || step == last || timeUp)
            {
                Checkpoint.Save(checkpoint, config.Name, step, model.Params, opt, config.Model);
                lossLog.Flush();
            }
            if (timeUp)
            {
                log.WriteLine($"time limit of {run.MaxMinutes} min reached after step {step}; resume with the same command");
                break;
            }
        }
        string gguf = Path.Combine(run.WorkDir, config.Name + ".gguf");
        GgufExport.Write(gguf, model, vocab, GgmlTypeInfo.Parse(config.ExportType), config.Name);
        log.WriteLine($"wrote {gguf} after step {step} ({clock.Elapsed:hh\\:mm\\:ss})");
        return step;
    }

    /// <summary>Writes the work directory's checkpoint as a GGUF (while a run goes on, or after it). Returns its step.</summary>
    public long ExportCheckpoint(string output)
    {
        string checkpoint = Path.Combine(run.WorkDir, CheckpointFile);
        if (!File.Exists(checkpoint)) throw new IOException($"no checkpoint at {checkpoint}");
        BpeVocabulary vocab = LoadOrTrainVocabulary();
        using var pool = new WorkerPool(1);
        var model = new TrainModel(config.Model, pool);
        OptimizerConfig oc = config.Optimizer;
        var opt = new AdamW(model.Layout, new AdamWOptions { Beta1 = oc.Beta1, Beta2 = oc.Beta2, WeightDecay = oc.WeightDecay, ClipNorm = oc.Clip });
        long step = Checkpoint.Load(checkpoint, model.Params, opt, config.Model);
        GgufExport.Write(output, model, vocab, GgmlTypeInfo.Parse(config.ExportType), config.Name);
        log.WriteLine($"wrote {output} from {checkpoint} (step {step})");
        return step;
    }

    /// <summary>
    /// Prints <paramref name="count"/> sequences of <paramref name="task"/> as the batches of
    /// <paramref name="step"/> would hold them (weighted targets in [[ ]]), and the rate at which the
    /// batch source fills them.
    /// </summary>
    public void ShowSamples(string task, int length, int count, long step)
    {
        Directory.CreateDirectory(run.WorkDir);
        BpeVocabulary vocab = LoadOrTrainVocabulary();
        int[] text = LoadOrTokenizeCorpus(vocab);
        var encoder = new BpeEncoder(vocab);
        BatchSource source = NewBatchSource(vocab, encoder, text);
        var batch = new Batch(count, length);
        var taskOf = new int[count];
        var clock = Stopwatch.StartNew();
        source.Fill(batch, step, new Dictionary<string, double> { [task] = 1 }, taskOf, StageAt(step).Alphabet);
        double seconds = clock.Elapsed.TotalSeconds;
        for (int b = 0; b < count; b++)
        {
            var sb = new System.Text.StringBuilder();
            bool inAnswer = false;
            for (int i = b * length; i < (b + 1) * length; i++)
            {
                bool w = batch.Weights[i] > 0;
                if (w && !inAnswer) sb.Append("[[");
                if (!w && inAnswer) sb.Append("]]");
                inAnswer = w;
                sb.Append(encoder.Decode([batch.Targets[i]]));
            }
            if (inAnswer) sb.Append("]]");
            log.WriteLine($"--- sequence {b} ({length} tokens, {batch.Weights.AsSpan(b * length, length).ToArray().Count(x => x > 0)} weighted)");
            log.WriteLine(sb.ToString());
        }
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"filled {count}×{length} tokens of '{task}' in {seconds:F2} s ({count * length / seconds:F0} tokens/s)"));
    }

    private BatchSource NewBatchSource(BpeVocabulary vocab, BpeEncoder encoder, int[] text) =>
        new(text, vocab.Count - vocab.SpecialCount, config.Seed, new RetrievalTasks(encoder, vocab.ImEndId), vocab.EndOfTextId, config.Data.LossPerSequence);

    private Stage StageAt(long step)
    {
        long end = 0;
        foreach (Stage s in config.Stages)
        {
            end += s.Steps;
            if (step < end) return s;
        }
        return config.Stages[^1];
    }

    /// <summary>Mean loss and greedy accuracy per task over the weighted positions of the batch ("nan" where a task is absent).</summary>
    private static string PerTask(Batch batch, int[] taskOf, float[] loss, bool[] hit)
    {
        var parts = new List<string>();
        for (int task = 0; task < BatchSource.Tasks.Length; task++)
        {
            double sum = 0;
            long n = 0, hits = 0;
            for (int b = 0; b < batch.Sequences; b++)
            {
                if (taskOf[b] != task) continue;
                for (int i = b * batch.Length; i < (b + 1) * batch.Length; i++)
                {
                    if (float.IsNaN(loss[i])) continue;
                    sum += loss[i];
                    n++;
                    if (hit[i]) hits++;
                }
            }
            parts.Add(n == 0 ? "nan\tnan" : string.Create(CultureInfo.InvariantCulture, $"{sum / n:F4}\t{(double)hits / n:F4}"));
        }
        return string.Join('\t', parts);
    }

    /// <summary>Drops log lines of steps after the checkpoint, so a resumed run's log has each step once.</summary>
    private void TruncateLossLog(long step)
    {
        string path = Path.Combine(run.WorkDir, LossFile);
        if (!File.Exists(path)) return;
        var kept = new List<string>();
        foreach (string line in File.ReadLines(path))
        {
            int tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab > 0 && long.TryParse(line.AsSpan(0, tab), NumberStyles.Integer, CultureInfo.InvariantCulture, out long s) && s > step) continue;
            kept.Add(line);
        }
        File.WriteAllLines(path, kept);
    }

    private BpeVocabulary LoadOrTrainVocabulary()
    {
        string path = Path.Combine(run.WorkDir, VocabFile);
        if (File.Exists(path))
        {
            BpeVocabulary v = BpeVocabulary.Load(path);
            if (v.Count != config.Model.Vocab) throw new InvalidDataException($"{path} has {v.Count} tokens, the config asks for {config.Model.Vocab}; delete it to retrain");
            return v;
        }
        var clock = Stopwatch.StartNew();
        TokenizerConfig tc = config.Tokenizer;
        BpeVocabulary vocab = BpeTrainer.Train(Corpus.Read(tc.Corpus, tc.CorpusBytes).Select(d => d.Text), tc.VocabSize, log.WriteLine);
        if (vocab.Count != config.Model.Vocab)
            throw new InvalidDataException($"the tokenizer corpus ran out of pairs at {vocab.Count} tokens (model.vocab {config.Model.Vocab}): add corpus or lower the vocabulary");
        vocab.Save(path);
        log.WriteLine($"trained the tokenizer in {clock.Elapsed.TotalSeconds:F0} s: {path}");
        return vocab;
    }

    private int[] LoadOrTokenizeCorpus(BpeVocabulary vocab)
    {
        string path = Path.Combine(run.WorkDir, TokensFile);
        if (File.Exists(path))
        {
            byte[] bytes = File.ReadAllBytes(path);
            return MemoryMarshal.Cast<byte, int>(bytes).ToArray();
        }
        var clock = Stopwatch.StartNew();
        var encoder = new BpeEncoder(vocab);
        var ids = new List<int>();
        int documents = 0;
        foreach (var (_, doc) in Corpus.Read(config.Data.Corpus, config.Data.CorpusBytes))
        {
            encoder.Encode(doc, ids);
            ids.Add(vocab.EndOfTextId);
            documents++;
        }
        int[] text = ids.ToArray();
        File.WriteAllBytes(path, MemoryMarshal.AsBytes(text.AsSpan()).ToArray());
        log.WriteLine($"tokenized {documents} documents into {text.Length:N0} tokens in {clock.Elapsed.TotalSeconds:F0} s: {path}");
        return text;
    }
}
