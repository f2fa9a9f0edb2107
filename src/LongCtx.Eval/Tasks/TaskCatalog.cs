using System.Globalization;
using LongCtx.Eval.Text;

namespace LongCtx.Eval.Tasks;

/// <summary>
/// Variants that change every task of a catalog at once: what the evaluation holds out from a
/// trainer that uses the same generators (train on one essay source and needle sentence, evaluate
/// on the other).
/// </summary>
public sealed record CatalogOptions
{
    /// <summary>Essay haystack source of every task that has one.</summary>
    public EssaySource EssaySource { get; init; } = EssaySource.Licenses;
    /// <summary>Needle sentence of the niah tasks (see <see cref="NiahOptions.NeedleFormat"/>).</summary>
    public string NeedleFormat { get; init; } = NiahOptions.RulerNeedle;
}

/// <summary>The tasks by name: RULER's 13, BABILong's qa1–qa5, and the needle grid.</summary>
public static class TaskCatalog
{
    /// <summary>RULER's 13 tasks in its order.</summary>
    public static readonly IReadOnlyList<string> RulerNames =
    [
        "niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1", "niah_multikey_2", "niah_multikey_3",
        "niah_multivalue", "niah_multiquery", "vt", "cwe", "fwe", "qa_1", "qa_2",
    ];

    /// <summary>BABILong's first five tasks.</summary>
    public static readonly IReadOnlyList<string> BabilongNames = ["qa1", "qa2", "qa3", "qa4", "qa5"];

    /// <summary>Needle depths of the grid: 0, 10, ..., 100 percent.</summary>
    public static readonly IReadOnlyList<double> GridDepths = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100];

    /// <summary>Prefix of needle-grid task names; the depth follows (<c>niah_depth_30</c>).</summary>
    public const string GridPrefix = "niah_depth_";

    /// <summary>RULER's 13 tasks with the parameters of its synthetic.yaml.</summary>
    public static IReadOnlyList<IEvalTask> Ruler(CatalogOptions? options = null) => RulerNames.Select(n => Get(n, options)).ToList();

    /// <summary>BABILong-style qa1..qa5.</summary>
    public static IReadOnlyList<IEvalTask> Babilong(CatalogOptions? options = null) => BabilongNames.Select(n => Get(n, options)).ToList();

    /// <summary>The needle grid: one single-needle task per depth (niah_single_2's essay haystack and numbers).</summary>
    public static IReadOnlyList<IEvalTask> NeedleGrid(IReadOnlyList<double>? depths = null, CatalogOptions? options = null) =>
        (depths ?? GridDepths).Select(d => Get(GridPrefix + d.ToString("0.##", CultureInfo.InvariantCulture), options)).ToList();

    /// <summary>A task by name: a RULER task, qa1..qa5, or <c>niah_depth_D</c> for a needle at D percent.</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static IEvalTask Get(string name, CatalogOptions? options = null)
    {
        options ??= new CatalogOptions();
        var essay = new NiahOptions { EssaySource = options.EssaySource, NeedleFormat = options.NeedleFormat };
        switch (name)
        {
            case "niah_single_1": return new NiahTask(name, essay with { Haystack = HaystackKind.Noise });
            case "niah_single_2": return new NiahTask(name, essay);
            case "niah_single_3": return new NiahTask(name, essay with { ValueKind = NeedleKind.Uuids });
            case "niah_multikey_1": return new NiahTask(name, essay with { Keys = 4 });
            case "niah_multikey_2": return new NiahTask(name, essay with { Haystack = HaystackKind.Needles });
            case "niah_multikey_3": return new NiahTask(name, essay with { Haystack = HaystackKind.Needles, KeyKind = NeedleKind.Uuids, ValueKind = NeedleKind.Uuids });
            case "niah_multivalue": return new NiahTask(name, essay with { ValuesPerKey = 4 });
            case "niah_multiquery": return new NiahTask(name, essay with { Queries = 4 });
            case "vt": return new VariableTrackingTask(name, new VariableTrackingOptions { EssaySource = options.EssaySource });
            case "cwe": return new CommonWordsTask(name, new CommonWordsOptions());
            case "fwe": return new FrequentWordsTask(name, new FrequentWordsOptions());
            case "qa_1": return new QaTask(name, new QaOptions());
            case "qa_2": return new QaTask(name, new QaOptions { TwoHop = true });
        }
        if (name.Length == 3 && name.StartsWith("qa", StringComparison.Ordinal) && name[2] is >= '1' and <= '5')
        {
            return new BabilongTask(name, new BabilongOptions { Task = name[2] - '0', EssaySource = options.EssaySource });
        }
        if (name.StartsWith(GridPrefix, StringComparison.Ordinal)
            && double.TryParse(name.AsSpan(GridPrefix.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out double depth))
        {
            return new NiahTask(name, essay with { Depth = depth });
        }
        throw new ArgumentException(
            $"unknown task '{name}' (known: {string.Join(", ", RulerNames)}, {string.Join(", ", BabilongNames)}, {GridPrefix}D for a depth D in 0..100)");
    }

    /// <summary>The seed of one sample: a mix of the run's seed, the task name, the length and the index.</summary>
    public static ulong SampleSeed(ulong runSeed, string task, int length, int index) =>
        StableHash.Mix(StableHash.Mix(runSeed, StableHash.Of(task)),
            StableHash.Of(length.ToString(CultureInfo.InvariantCulture), index.ToString(CultureInfo.InvariantCulture)));
}
