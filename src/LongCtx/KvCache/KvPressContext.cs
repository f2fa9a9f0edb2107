using LongCtx.Models;
using LongCtx.Tensors;

namespace LongCtx.KvCache;

/// <summary>Everything a press may read: the cache, the model's shape and RoPE, what was observed.</summary>
public sealed class KvPressContext
{
    /// <summary>The cache to compress.</summary>
    public required KvCache Cache { get; init; }
    /// <summary>The model's hyper-parameters.</summary>
    public required ModelConfig Config { get; init; }
    /// <summary>llama3-style per-frequency RoPE divisors, or empty.</summary>
    public ReadOnlyMemory<float> RopeFreqFactors { get; init; }
    /// <summary>The recorded queries, or null when none were recorded.</summary>
    public KvObservations? Observations { get; init; }
    /// <summary>The next token's position (the sequence length so far).</summary>
    public int Position { get; init; }
    /// <summary>Entries per head to keep, overriding a press's ratio (decode-time compression to a budget); 0 = use the ratio.</summary>
    public int TargetCount { get; init; }
    /// <summary>Workers for heavy scoring, or null to run on the caller.</summary>
    public WorkerPool? Pool { get; init; }

    /// <summary>Score scale 1/sqrt(head dim).</summary>
    public float Scale => 1f / MathF.Sqrt(Config.HeadDim);

    /// <summary>The recorded queries, with at least <paramref name="window"/> tokens (fewer when fewer were evaluated).</summary>
    /// <exception cref="KvObservationException">No queries, or too short a window, were recorded.</exception>
    public KvObservations RequireQueries(string press, int window)
    {
        if (Observations is null || Observations.QueryCount == 0)
        {
            throw new KvObservationException(
                $"{press} needs the queries of the last {window} evaluated tokens, which were not recorded: pass the press to Session.Prefill (or call Session.Observe before evaluating)");
        }
        if (Observations.QueryWindow < window)
        {
            throw new KvObservationException($"{press} needs the last {window} queries but only {Observations.QueryWindow} were recorded");
        }
        return Observations;
    }
}

/// <summary>A press ran without the observations it needs (see <see cref="IKvPress.Needs"/>).</summary>
public sealed class KvObservationException(string message) : InvalidOperationException(message);
