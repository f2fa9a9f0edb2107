using LongCtx.Eval.Scoring;
using LongCtx.Eval.Tasks;

namespace LongCtx.Eval.Running;

/// <summary>Receives a run's progress (the CLI draws a progress bar from it).</summary>
public interface IEvalProgress
{
    /// <summary>The run starts: <paramref name="total"/> items, <paramref name="alreadyDone"/> of them found in the results file.</summary>
    void Started(int total, int alreadyDone);
    /// <summary>A model is being opened, or a task is being generated: what the run is doing now.</summary>
    void Status(string text);
    /// <summary>One item finished and was appended.</summary>
    void Completed(EvalRecord record);
    /// <summary>Something the user should know (an item skipped, with why).</summary>
    void Warning(string text);
}

/// <summary>What a run did.</summary>
public sealed record RunSummary(int Total, int Resumed, int Completed, int Skipped);

/// <summary>
/// Runs a plan: for each model, length, task and sample, generates the sample once and answers it
/// under every method, appending one record per answer to the results JSONL. Items already in the
/// file are skipped, so an interrupted run resumes where it stopped and, the engine being
/// deterministic, ends with the same file as an uninterrupted one.
/// </summary>
public sealed class EvalRunner(Func<string, IEvalEngine> openEngine, IEvalProgress? progress = null)
{
    /// <summary>Runs <paramref name="plan"/>, appending to <paramref name="resultsPath"/>.</summary>
    /// <exception cref="OperationCanceledException">Cancelled; every finished item is already in the file.</exception>
    public RunSummary Run(EvalPlan plan, string resultsPath, CancellationToken cancel = default)
    {
        if (plan.Samples < 1)
        {
            throw new ArgumentException($"samples must be at least 1 (got {plan.Samples})");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(resultsPath))!);
        var done = new HashSet<RecordKey>(ResultsFile.Load(resultsPath, repair: true).Select(r => r.Key));
        int resumed = CountDone(plan, done);
        progress?.Started(plan.Total, resumed);
        int completed = 0, skipped = 0;

        foreach (string model in plan.Models)
        {
            string modelKey = EvalPlan.ModelKey(model);
            if (!HasWork(plan, modelKey, done))
            {
                continue;
            }
            progress?.Status($"loading {modelKey}");
            IEvalEngine engine = openEngine(model);
            try
            {
                // Every spec is checked before this model answers anything: a bad one fails the run here.
                foreach (string method in plan.Methods)
                {
                    engine.ValidateMethod(method);
                }
                foreach (int length in plan.Lengths)
                {
                    foreach (IEvalTask task in plan.Tasks)
                    {
                        for (int index = 0; index < plan.Samples; index++)
                        {
                            cancel.ThrowIfCancellationRequested();
                            var pending = plan.Methods.Where(m => !done.Contains(new RecordKey(modelKey, m, task.Name, length, index, plan.Seed))).ToList();
                            if (pending.Count == 0)
                            {
                                continue;
                            }
                            progress?.Status($"{modelKey} {task.Name} {length} #{index}");
                            EvalSample sample;
                            try
                            {
                                sample = task.Generate(new SampleRequest
                                {
                                    Length = length,
                                    Index = index,
                                    Seed = TaskCatalog.SampleSeed(plan.Seed, task.Name, length, index),
                                    Counter = engine,
                                    PromptOverhead = engine.PromptOverhead,
                                });
                            }
                            catch (SampleSizeException e)
                            {
                                progress?.Warning($"skipped: {e.Message}");
                                // Every sample of this task and length has the same fixed parts: skip them all.
                                for (int rest = index; rest < plan.Samples; rest++)
                                {
                                    skipped += plan.Methods.Count(m => !done.Contains(new RecordKey(modelKey, m, task.Name, length, rest, plan.Seed)));
                                }
                                break;
                            }
                            foreach (string method in pending)
                            {
                                cancel.ThrowIfCancellationRequested();
                                EvalRecord record = Answer(plan, modelKey, method, sample, engine);
                                ResultsFile.Append(resultsPath, record);
                                done.Add(record.Key);
                                completed++;
                                progress?.Completed(record);
                            }
                        }
                    }
                }
            }
            finally
            {
                (engine as IDisposable)?.Dispose();
            }
        }
        return new RunSummary(plan.Total, resumed, completed, skipped);
    }

    private static EvalRecord Answer(EvalPlan plan, string modelKey, string method, EvalSample sample, IEvalEngine engine)
    {
        EngineResult result = engine.Generate(sample.Input, sample.AnswerPrefix, method, sample.MaxNewTokens);
        return new EvalRecord
        {
            Suite = plan.Suite,
            Model = modelKey,
            Method = method,
            Task = sample.Task,
            Length = sample.Length,
            Sample = sample.Index,
            Seed = plan.Seed,
            Depth = sample.Depth,
            Metric = Scorer.Name(sample.Metric),
            Score = Scorer.Score(sample, result.Text),
            Answers = sample.Answers,
            Prediction = result.Text,
            PromptTokens = result.PromptTokens,
            GeneratedTokens = result.GeneratedTokens,
            PrefillTokensPerSecond = result.PrefillTokensPerSecond,
            DecodeTokensPerSecond = result.DecodeTokensPerSecond,
            KvBytes = result.KvBytes,
        };
    }

    private static bool HasWork(EvalPlan plan, string modelKey, HashSet<RecordKey> done)
    {
        foreach (string method in plan.Methods)
        {
            foreach (int length in plan.Lengths)
            {
                foreach (IEvalTask task in plan.Tasks)
                {
                    for (int i = 0; i < plan.Samples; i++)
                    {
                        if (!done.Contains(new RecordKey(modelKey, method, task.Name, length, i, plan.Seed)))
                        {
                            return true;
                        }
                    }
                }
            }
        }
        return false;
    }

    private static int CountDone(EvalPlan plan, HashSet<RecordKey> done)
    {
        int n = 0;
        foreach (string model in plan.Models)
        {
            string key = EvalPlan.ModelKey(model);
            foreach (string method in plan.Methods)
            {
                foreach (int length in plan.Lengths)
                {
                    foreach (IEvalTask task in plan.Tasks)
                    {
                        for (int i = 0; i < plan.Samples; i++)
                        {
                            n += done.Contains(new RecordKey(key, method, task.Name, length, i, plan.Seed)) ? 1 : 0;
                        }
                    }
                }
            }
        }
        return n;
    }
}
