using System.Globalization;
using LongCtx.KvCache.Presses;
using LongCtx.KvCache.Selectors;

namespace LongCtx.KvCache;

/// <summary>Whether a method compresses the cache once (press) or chooses entries at every step (selector).</summary>
public enum KvMethodKind
{
    /// <summary>An <see cref="IKvPress"/>.</summary>
    Press,
    /// <summary>An <see cref="IKvSelector"/>.</summary>
    Selector,
}

/// <summary>Type of a method parameter.</summary>
public enum KvParameterKind
{
    /// <summary>An integer in [Min, Max].</summary>
    Integer,
    /// <summary>A number in [Min, Max] (or [Min, Max) when <see cref="KvParameter.MaxExclusive"/>).</summary>
    Number,
    /// <summary>true or false.</summary>
    Boolean,
    /// <summary>One of <see cref="KvParameter.Choices"/>.</summary>
    Choice,
}

/// <summary>A parameter of a KV method, with its default and valid range.</summary>
/// <param name="Name">Key in specs.</param>
/// <param name="Kind">Type.</param>
/// <param name="Default">Value when the spec omits it.</param>
/// <param name="Description">What it sets.</param>
public sealed record KvParameter(string Name, KvParameterKind Kind, string Default, string Description)
{
    /// <summary>Smallest valid value (numbers).</summary>
    public double Min { get; init; } = double.NegativeInfinity;
    /// <summary>Largest valid value (numbers).</summary>
    public double Max { get; init; } = double.PositiveInfinity;
    /// <summary>Whether <see cref="Max"/> itself is invalid.</summary>
    public bool MaxExclusive { get; init; }
    /// <summary>Valid values of a <see cref="KvParameterKind.Choice"/>.</summary>
    public IReadOnlyList<string> Choices { get; init; } = [];

    /// <summary>The valid range in words.</summary>
    public string Range => Kind switch
    {
        KvParameterKind.Boolean => "true or false",
        KvParameterKind.Choice => "one of " + string.Join(", ", Choices),
        _ => $"{(Kind == KvParameterKind.Integer ? "an integer" : "a number")} in [{Num(Min)}, {Num(Max)}{(MaxExclusive ? ")" : "]")}",
    };

    private static string Num(double x) => double.IsInfinity(x) ? (x > 0 ? "∞" : "−∞") : x.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Validated parameter values of one method of a spec (defaults filled in).</summary>
public sealed class KvArguments
{
    private readonly Dictionary<string, object> _values;

    internal KvArguments(string spec, Dictionary<string, object> values, IReadOnlyList<KeyValuePair<string, string>> extra)
    {
        Spec = spec;
        _values = values;
        Extra = extra;
    }

    /// <summary>The whole spec (for error messages).</summary>
    public string Spec { get; }

    /// <summary>Parameters not declared by the method (a wrapper passes them to the method it wraps).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Extra { get; }

    /// <summary>An integer parameter.</summary>
    public int Int(string name) => (int)_values[name];
    /// <summary>A number parameter.</summary>
    public double Number(string name) => (double)_values[name];
    /// <summary>A boolean parameter.</summary>
    public bool Bool(string name) => (bool)_values[name];
    /// <summary>A choice parameter.</summary>
    public string Choice(string name) => (string)_values[name];
}

/// <summary>A registered KV method: name, paper, parameters and factory.</summary>
/// <param name="Name">Name in specs.</param>
/// <param name="Kind">Press or selector.</param>
/// <param name="Paper">arXiv id of the paper.</param>
/// <param name="Summary">One line on what it does.</param>
/// <param name="Parameters">Declared parameters.</param>
/// <param name="Factory">Creates the press or selector from validated arguments.</param>
public sealed record KvMethodInfo(string Name, KvMethodKind Kind, string Paper, string Summary, IReadOnlyList<KvParameter> Parameters, Func<KvArguments, object> Factory)
{
    /// <summary>Whether undeclared parameters go to a wrapped method (AdaKV's scorer) instead of being rejected.</summary>
    public bool Wraps { get; init; }
}

/// <summary>A parsed spec: the press to apply after prefill and the selector for decode steps (either may be null).</summary>
/// <param name="Spec">The spec text.</param>
/// <param name="Press">The press (composed when the spec joins several), or null.</param>
/// <param name="Selector">The selector, or null. Selectors keep per-session state: parse once per session.</param>
public sealed record KvMethod(string Spec, IKvPress? Press, IKvSelector? Selector);

/// <summary>
/// Every KV method by name, with its parameters and defaults: the one place where specs become
/// presses and selectors. Unknown names, parameters or values throw <see cref="KvSpecException"/>
/// listing the valid ones.
/// </summary>
public static class KvMethodRegistry
{
    private static readonly KvParameter Ratio = new("ratio", KvParameterKind.Number, "0.5", "fraction of each head's entries removed") { Min = 0, Max = 1, MaxExclusive = true };

    /// <summary>The methods, presses first.</summary>
    public static IReadOnlyList<KvMethodInfo> All { get; } =
    [
        new("streamingllm", KvMethodKind.Press, "2309.17453", "attention sinks + recent window",
            [Ratio, Int("sinks", 4, 0, "initial entries always kept")],
            a => new StreamingLlmPress { Ratio = a.Number("ratio"), Sinks = a.Int("sinks") }),
        new("h2o", KvMethodKind.Press, "2306.14048", "heavy hitters: accumulated attention + recent entries",
            [Ratio, new("recent", KvParameterKind.Number, "0.5", "fraction of the kept entries reserved for the most recent") { Min = 0, Max = 1 }],
            a => new H2OPress { Ratio = a.Number("ratio"), Recent = a.Number("recent") }),
        new("snapkv", KvMethodKind.Press, "2404.14469", "attention of the last window of queries, pooled",
            [Ratio, Int("window", 64, 1, "queries in the observation window"), Int("kernel", 5, 1, "average-pool width")],
            a => new SnapKvPress { Ratio = a.Number("ratio"), Window = a.Int("window"), Kernel = a.Int("kernel") }),
        new("pyramidkv", KvMethodKind.Press, "2406.02069", "SnapKV scores with pyramid-shaped layer budgets",
            [Ratio, Int("window", 64, 1, "queries in the observation window"), Int("kernel", 5, 1, "average-pool width"), Int("beta", 20, 1, "pyramid steepness")],
            a => new PyramidKvPress { Ratio = a.Number("ratio"), Window = a.Int("window"), Kernel = a.Int("kernel"), Beta = a.Int("beta") }),
        new("tova", KvMethodKind.Press, "2401.06104", "attention of the last token",
            [Ratio],
            a => new TovaPress { Ratio = a.Number("ratio") }),
        new("knorm", KvMethodKind.Press, "2406.11430", "smallest key norms",
            [Ratio],
            a => new KnormPress { Ratio = a.Number("ratio") }),
        new("expected_attention", KvMethodKind.Press, "2510.00636", "expected attention of future queries (Gaussian query statistics, averaged RoPE)",
            [Ratio, Int("window", 256, 1, "recorded queries whose statistics are used"), Int("future", 512, 1, "future positions averaged into the rotation"),
             Int("sinks", 4, 0, "initial entries always kept"), Bool("cov", true, "use the query covariance"), Bool("vnorm", true, "rescale by value norms"),
             new("epsilon", KvParameterKind.Number, "0", "added before the value-norm rescaling") { Min = 0 }],
            a => new ExpectedAttentionPress
            {
                Ratio = a.Number("ratio"), Window = a.Int("window"), Future = a.Int("future"), Sinks = a.Int("sinks"),
                Covariance = a.Bool("cov"), ValueNorm = a.Bool("vnorm"), Epsilon = (float)a.Number("epsilon"),
            }),
        new("adakv", KvMethodKind.Press, "2407.11550", "head-adaptive budgets over a scorer (its parameters pass through)",
            [new("alpha", KvParameterKind.Number, "0.2", "fraction of its uniform budget every head keeps") { Min = 0, Max = 1 },
             new("scorer", KvParameterKind.Choice, "snapkv", "the scoring press") { Choices = ["streamingllm", "h2o", "snapkv", "tova", "knorm", "expected_attention"] }],
            a => new AdaKvPress((ScorerPress)Create(a.Choice("scorer"), a.Extra, a.Spec)) { Alpha = a.Number("alpha") }) { Wraps = true },
        new("think", KvMethodKind.Press, "2407.21018", "key channel pruning",
            [new("ratio", KvParameterKind.Number, "0.5", "fraction of key channels pruned") { Min = 0, Max = 1, MaxExclusive = true }, Int("window", 32, 1, "recent queries that score the channels")],
            a => new ThinkPress { Ratio = a.Number("ratio"), Window = a.Int("window") }),
        new("int8", KvMethodKind.Press, "2402.02750", "KIVI int8: keys per channel, values per token, recent window in full precision",
            [Int("group", 32, 1, "tokens per key group / channels per value group"), Int("window", 128, 0, "recent entries kept in full precision")],
            a => new QuantizePress(new KvQuantization(8, a.Int("group"), a.Int("window")))),
        new("int4", KvMethodKind.Press, "2402.02750", "KIVI int4: keys per channel, values per token, recent window in full precision",
            [Int("group", 32, 1, "tokens per key group / channels per value group"), Int("window", 128, 0, "recent entries kept in full precision")],
            a => new QuantizePress(new KvQuantization(4, a.Int("group"), a.Int("window")))),
        new("quest", KvMethodKind.Selector, "2406.10774", "per-page min/max keys; reads the pages with the largest q·k upper bound",
            [Int("budget", 1024, 1, "entries read per KV head and step"), Int("page", 16, 1, "entries per page"), Int("dense_layers", 2, 0, "leading layers that read everything")],
            a => new QuestSelector { Budget = a.Int("budget"), PageSize = a.Int("page"), DenseLayers = a.Int("dense_layers") }),
        new("tokenselect", KvMethodKind.Selector, "2411.02886", "per-head soft vote over tokens, with a selection cache",
            [Int("budget", 1024, 1, "entries read per KV head and step"), Int("sinks", 4, 0, "initial entries always read"), Int("window", 64, 0, "recent entries always read"),
             new("reuse", KvParameterKind.Number, "0.95", "query cosine above which the last selection is reused (>1: never)") { Min = -1, Max = 2 }],
            a => new TokenSelectSelector { Budget = a.Int("budget"), Sinks = a.Int("sinks"), Window = a.Int("window"), Reuse = (float)a.Number("reuse") }),
    ];

    /// <summary>Specs that mean "no method": <c>full</c> or <c>none</c>.</summary>
    public static bool IsNone(string spec) => spec.Trim().ToLowerInvariant() is "full" or "none";

    /// <summary>The method called <paramref name="name"/>, or null.</summary>
    public static KvMethodInfo? Find(string name)
    {
        foreach (KvMethodInfo m in All)
        {
            if (m.Name == name)
            {
                return m;
            }
        }
        return null;
    }

    /// <summary>Parses a spec into a press (several composed in order) and at most one selector.</summary>
    /// <exception cref="KvSpecException">Bad syntax, unknown method or parameter, invalid value, or two selectors.</exception>
    public static KvMethod Parse(string spec)
    {
        if (IsNone(spec))
        {
            return new KvMethod(spec, null, null);
        }
        var presses = new List<IKvPress>();
        IKvSelector? selector = null;
        foreach (KvSpecPart part in KvSpec.Parse(spec))
        {
            object method = Create(part.Name, part.Parameters, spec);
            if (method is IKvSelector s)
            {
                if (selector != null)
                {
                    throw new KvSpecException($"KV spec '{spec}': more than one selector ({part.Name}); a spec holds presses and at most one selector");
                }
                selector = s;
            }
            else
            {
                presses.Add((IKvPress)method);
            }
        }
        IKvPress? press = presses.Count switch { 0 => null, 1 => presses[0], _ => new ComposedPress(presses) };
        return new KvMethod(spec, press, selector);
    }

    /// <summary>Creates method <paramref name="name"/> from raw parameters.</summary>
    private static object Create(string name, IReadOnlyList<KeyValuePair<string, string>> raw, string spec)
    {
        KvMethodInfo info = Find(name) ?? throw new KvSpecException(
            $"KV spec '{spec}': unknown method '{name}'; valid methods: {string.Join(", ", Names())} (or 'full' for none)");
        var values = new Dictionary<string, object>();
        var extra = new List<KeyValuePair<string, string>>();
        foreach (KeyValuePair<string, string> kv in raw)
        {
            KvParameter? p = null;
            foreach (KvParameter candidate in info.Parameters)
            {
                if (candidate.Name == kv.Key)
                {
                    p = candidate;
                }
            }
            if (p is null)
            {
                if (info.Wraps)
                {
                    extra.Add(kv);
                    continue;
                }
                throw new KvSpecException($"KV spec '{spec}': {name} has no parameter '{kv.Key}'; valid: {ParameterList(info)}");
            }
            values[p.Name] = Convert(p, kv.Value, name, spec);
        }
        foreach (KvParameter p in info.Parameters)
        {
            if (!values.ContainsKey(p.Name))
            {
                values[p.Name] = Convert(p, p.Default, name, spec);
            }
        }
        try
        {
            return info.Factory(new KvArguments(spec, values, extra));
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new KvSpecException($"KV spec '{spec}': {name}: {e.Message}");
        }
    }

    private static object Convert(KvParameter p, string text, string method, string spec)
    {
        string Bad() => $"KV spec '{spec}': {method}.{p.Name} = '{text}' is invalid; expected {p.Range}";
        switch (p.Kind)
        {
            case KvParameterKind.Boolean:
                return bool.TryParse(text, out bool b) ? b : throw new KvSpecException(Bad());
            case KvParameterKind.Choice:
                string c = text.ToLowerInvariant();
                foreach (string choice in p.Choices)
                {
                    if (choice == c)
                    {
                        return choice;
                    }
                }
                throw new KvSpecException(Bad());
            case KvParameterKind.Integer:
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) || i < p.Min || i > p.Max)
                {
                    throw new KvSpecException(Bad());
                }
                return i;
            default:
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || !double.IsFinite(d)
                    || d < p.Min || d > p.Max || (p.MaxExclusive && d == p.Max))
                {
                    throw new KvSpecException(Bad());
                }
                return d;
        }
    }

    private static string ParameterList(KvMethodInfo info)
    {
        var names = new List<string>();
        foreach (KvParameter p in info.Parameters)
        {
            names.Add($"{p.Name} ({p.Range}, default {p.Default})");
        }
        return names.Count == 0 ? "none" : string.Join(", ", names);
    }

    private static List<string> Names()
    {
        var names = new List<string>();
        foreach (KvMethodInfo m in All)
        {
            names.Add(m.Name);
        }
        return names;
    }

    private static KvParameter Int(string name, int value, int min, string description) =>
        new(name, KvParameterKind.Integer, value.ToString(CultureInfo.InvariantCulture), description) { Min = min };

    private static KvParameter Bool(string name, bool value, string description) =>
        new(name, KvParameterKind.Boolean, value ? "true" : "false", description);
}
