using System.Globalization;
using LongCtx.Eval.Tasks;

namespace LongCtx.Eval.Running;

/// <summary>What a run covers: model × method × length × task × samples.</summary>
public sealed record EvalPlan
{
    /// <summary>Suite name written into each record.</summary>
    public required string Suite { get; init; }
    /// <summary>Models (paths or names the engine opener understands).</summary>
    public required IReadOnlyList<string> Models { get; init; }
    /// <summary>KV method specs.</summary>
    public required IReadOnlyList<string> Methods { get; init; }
    /// <summary>Context lengths in tokens.</summary>
    public required IReadOnlyList<int> Lengths { get; init; }
    /// <summary>Tasks.</summary>
    public required IReadOnlyList<IEvalTask> Tasks { get; init; }
    /// <summary>Samples per task and length.</summary>
    public required int Samples { get; init; }
    /// <summary>Run seed.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Number of work items.</summary>
    public int Total => Models.Count * Methods.Count * Lengths.Count * Tasks.Count * Samples;

    /// <summary>The name a model has in results: its file name when it is a path.</summary>
    public static string ModelKey(string model) => Path.GetFileName(model.TrimEnd('/', '\\')) is { Length: > 0 } name ? name : model;

    /// <summary>Parses lengths such as <c>4k,8k,1500</c> (k = 1024).</summary>
    /// <exception cref="ArgumentException">An entry is not a positive length.</exception>
    public static List<int> ParseLengths(string text)
    {
        var lengths = new List<int>();
        foreach (string raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string s = raw.ToLowerInvariant();
            int scale = 1;
            if (s.EndsWith('k'))
            {
                scale = 1024;
                s = s[..^1];
            }
            if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n <= 0 || (long)n * scale > int.MaxValue)
            {
                throw new ArgumentException($"'{raw}' is not a length: use a positive number of tokens, optionally with k (1k = 1024)");
            }
            lengths.Add(n * scale);
        }
        if (lengths.Count == 0)
        {
            throw new ArgumentException("no lengths given");
        }
        return lengths;
    }

    /// <summary>
    /// Splits a method list at top-level commas: <c>full,snapkv:ratio=0.5,window=64,knorm:ratio=0.5</c>
    /// gives three specs (a comma followed by key=value continues the current spec).
    /// </summary>
    public static List<string> ParseMethods(string text)
    {
        var methods = new List<string>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            bool continuesParameters = methods.Count > 0 && methods[^1].Contains(':') && part.Contains('=') && !part.Contains(':');
            if (continuesParameters)
            {
                methods[^1] += "," + part;
            }
            else
            {
                methods.Add(part);
            }
        }
        if (methods.Count == 0)
        {
            throw new ArgumentException("no methods given");
        }
        return methods;
    }
}
