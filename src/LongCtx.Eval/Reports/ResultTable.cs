using LongCtx.Eval.Running;

namespace LongCtx.Eval.Reports;

/// <summary>Mean score (0–100), speed and KV bytes of a group of records.</summary>
public sealed record CellStats(double Score, int Count, double PrefillTokensPerSecond, double DecodeTokensPerSecond, double KvBytes)
{
    internal static CellStats Of(IReadOnlyCollection<EvalRecord> records) => new(
        records.Average(r => r.Score) * 100,
        records.Count,
        records.Average(r => r.PrefillTokensPerSecond),
        records.Average(r => r.DecodeTokensPerSecond),
        records.Average(r => (double)r.KvBytes));
}

/// <summary>
/// Results grouped the way reports read them: per model and method, a task × length grid of
/// scores (RULER's table), the averages, and the needle grid's depth × length scores.
/// </summary>
public sealed class ResultTable
{
    private readonly List<EvalRecord> _records;

    /// <summary>Groups <paramref name="records"/>.</summary>
    public ResultTable(IEnumerable<EvalRecord> records)
    {
        _records = records.ToList();
        Models = Distinct(r => r.Model);
        Methods = Distinct(r => r.Method);
        Tasks = Distinct(r => r.Task);
        Lengths = _records.Select(r => r.Length).Distinct().Order().ToList();
    }

    /// <summary>Models in first-seen order.</summary>
    public IReadOnlyList<string> Models { get; }
    /// <summary>Methods in first-seen order (the order the run gave them).</summary>
    public IReadOnlyList<string> Methods { get; }
    /// <summary>Tasks in first-seen order.</summary>
    public IReadOnlyList<string> Tasks { get; }
    /// <summary>Lengths ascending.</summary>
    public IReadOnlyList<int> Lengths { get; }
    /// <summary>All records.</summary>
    public IReadOnlyList<EvalRecord> Records => _records;

    /// <summary>Stats of one model, method, task and length; null when no record has them.</summary>
    public CellStats? Cell(string model, string method, string task, int length) =>
        Stats(r => r.Model == model && r.Method == method && r.Task == task && r.Length == length);

    /// <summary>Stats of one model and method at one length over all tasks.</summary>
    public CellStats? AtLength(string model, string method, int length) =>
        Stats(r => r.Model == model && r.Method == method && r.Length == length);

    /// <summary>Stats of one model and method over everything.</summary>
    public CellStats? Overall(string model, string method) => Stats(r => r.Model == model && r.Method == method);

    /// <summary>Mean score of a task over lengths (each length weighted equally, as RULER averages).</summary>
    public double? TaskAverage(string model, string method, string task) =>
        MeanOf(Lengths.Select(l => Cell(model, method, task, l)?.Score));

    /// <summary>Mean over tasks at one length (RULER's per-length average).</summary>
    public double? LengthAverage(string model, string method, int length) =>
        MeanOf(Tasks.Select(t => Cell(model, method, t, length)?.Score));

    /// <summary>Mean over every task and length cell.</summary>
    public double? Average(string model, string method) =>
        MeanOf(Tasks.SelectMany(t => Lengths.Select(l => Cell(model, method, t, l)?.Score)));

    /// <summary>Needle depths present (grid tasks only), ascending.</summary>
    public IReadOnlyList<double> Depths => _records.Where(r => r.Depth.HasValue).Select(r => r.Depth!.Value).Distinct().Order().ToList();

    /// <summary>Mean score at one needle depth and length; null when absent.</summary>
    public double? DepthCell(string model, string method, double depth, int length) =>
        Stats(r => r.Model == model && r.Method == method && r.Depth == depth && r.Length == length)?.Score;

    private CellStats? Stats(Func<EvalRecord, bool> where)
    {
        var hits = _records.Where(where).ToList();
        return hits.Count == 0 ? null : CellStats.Of(hits);
    }

    private static double? MeanOf(IEnumerable<double?> values)
    {
        var present = values.Where(v => v.HasValue).Select(v => v!.Value).ToList();
        return present.Count == 0 ? null : present.Average();
    }

    private List<string> Distinct(Func<EvalRecord, string> key)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<string>();
        foreach (EvalRecord r in _records)
        {
            if (seen.Add(key(r)))
            {
                list.Add(key(r));
            }
        }
        return list;
    }
}
