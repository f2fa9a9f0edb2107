namespace LongCtx.Eval.Tasks;

/// <summary>A named set of tasks with the lengths, samples and methods a run uses unless told otherwise.</summary>
public sealed record Suite
{
    /// <summary>Name (ruler, babilong, niah, quick).</summary>
    public required string Name { get; init; }
    /// <summary>What it measures, one line.</summary>
    public required string Description { get; init; }
    /// <summary>Its tasks, built with the given held-out options.</summary>
    public required Func<CatalogOptions, IReadOnlyList<IEvalTask>> Tasks { get; init; }
    /// <summary>Default lengths (e.g. <c>4k,8k</c>).</summary>
    public required string Lengths { get; init; }
    /// <summary>Default samples per task and length.</summary>
    public required int Samples { get; init; }
    /// <summary>Default method specs (KV method registry specs; <c>full</c> = the whole cache).</summary>
    public required IReadOnlyList<string> Methods { get; init; }
}

/// <summary>The suites of <c>longctx eval</c>.</summary>
public static class Suites
{
    /// <summary>RULER's 13 tasks.</summary>
    public static readonly Suite Ruler = new()
    {
        Name = "ruler",
        Description = "RULER's 13 tasks (retrieval, multi-hop tracing, aggregation, QA)",
        Tasks = o => TaskCatalog.Ruler(o),
        Lengths = "4k,8k",
        Samples = 10,
        Methods = ["full"],
    };

    /// <summary>BABILong-style qa1..qa5.</summary>
    public static readonly Suite Babilong = new()
    {
        Name = "babilong",
        Description = "BABILong-style bAbI qa1-qa5 facts in long background text",
        Tasks = o => TaskCatalog.Babilong(o),
        Lengths = "1k,2k,4k",
        Samples = 10,
        Methods = ["full"],
    };

    /// <summary>The needle grid: 11 depths × lengths.</summary>
    public static readonly Suite Niah = new()
    {
        Name = "niah",
        Description = "needle grid: one needle at depths 0-100% in steps of 10, for each length",
        Tasks = o => TaskCatalog.NeedleGrid(null, o),
        Lengths = "1k,2k,4k,8k",
        Samples = 2,
        Methods = ["full"],
    };

    /// <summary>A few minutes on 2 cores: core RULER tasks at short lengths, full cache against a few KV methods.</summary>
    public static readonly Suite Quick = new()
    {
        Name = "quick",
        Description = "a few minutes: niah_single_1/2, niah_multikey_1, vt and qa_1 at 1k and 2k, full cache vs KV methods",
        Tasks = o => new[] { "niah_single_1", "niah_single_2", "niah_multikey_1", "vt", "qa_1" }.Select(n => TaskCatalog.Get(n, o)).ToList(),
        Lengths = "1k,2k",
        Samples = 2,
        // Eviction (two scorers at half the cache), quantization (KIVI int8) and a per-step selector
        // (Quest reading 256 entries of each head: a quarter of the cache at 1k).
        Methods = ["full", "streamingllm:ratio=0.5", "snapkv:ratio=0.5", "int8", "quest:budget=256"],
    };

    /// <summary>All suites.</summary>
    public static readonly IReadOnlyList<Suite> All = [Ruler, Babilong, Niah, Quick];

    /// <summary>A suite by name.</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static Suite Get(string name) =>
        All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown suite '{name}' (known: {string.Join(", ", All.Select(s => s.Name))})");
}
