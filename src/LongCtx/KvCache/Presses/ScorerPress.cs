using LongCtx.Tensors;

namespace LongCtx.KvCache.Presses;

/// <summary>
/// The base of every eviction press that scores entries (kvpress's ScorerPress): it validates the
/// ratio, computes each head's budget, scores its entries with <see cref="Score"/> (higher = keep),
/// keeps the top ones in position order and releases the rest. A subclass holds only its rule.
/// Heads are scored in parallel, so <see cref="Score"/> must not write shared state.
/// </summary>
public abstract class ScorerPress : IKvPress
{
    private readonly double _ratio;

    /// <summary>Fraction of each head's entries to remove, in [0, 1): floor(n · ratio) of n are removed.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [0, 1).</exception>
    public double Ratio
    {
        get => _ratio;
        init => _ratio = value is >= 0 and < 1 ? value
            : throw new ArgumentOutOfRangeException(nameof(Ratio), value, "the compression ratio must be in [0, 1)");
    }

    /// <inheritdoc/>
    public virtual KvObservationNeeds Needs => default;

    /// <inheritdoc/>
    public virtual void Compress(KvPressContext context)
    {
        int items = context.Cache.LayerCount * context.Cache.HeadCountKv;
        var work = new HeadWork(this, context);
        if (context.Pool is null)
        {
            work.Execute(0, items);
        }
        else
        {
            context.Pool.For(items, work);
        }
    }

    /// <summary>How many of a head's <paramref name="count"/> entries to keep: the context's target, or count − floor(count · ratio).</summary>
    protected internal virtual int KeepCount(KvPressContext context, int layer, int count) =>
        context.TargetCount > 0 ? Math.Min(count, context.TargetCount) : Math.Max(1, count - (int)Math.Floor(count * Ratio + 1e-9));

    /// <summary>Scores the entries of one head; the <paramref name="keep"/> highest are kept (ties keep the later entry).</summary>
    /// <param name="context">The press context.</param>
    /// <param name="layer">Layer index.</param>
    /// <param name="kvHead">KV head index.</param>
    /// <param name="keep">How many will be kept (some rules reserve a recent window from it).</param>
    /// <param name="scores">One score per entry, in entry order.</param>
    protected internal abstract void Score(KvPressContext context, int layer, int kvHead, int keep, Span<float> scores);

    /// <summary>The indices of the <paramref name="k"/> highest scores, ascending; ties prefer the later index, NaN ranks lowest.</summary>
    public static int[] TopIndices(ReadOnlySpan<float> scores, int k)
    {
        var top = new int[k];
        KvScoring.TopIndices(scores, k, new ulong[scores.Length], top);
        return top;
    }

    private readonly struct HeadWork(ScorerPress press, KvPressContext context) : IParallelWork
    {
        public void Execute(int start, int end)
        {
            KvCache cache = context.Cache;
            for (int item = start; item < end; item++)
            {
                int layer = item / cache.HeadCountKv, head = item % cache.HeadCountKv;
                int n = cache.Count(layer, head);
                if (n == 0)
                {
                    continue;
                }
                int keep = press.KeepCount(context, layer, n);
                var scores = new float[n];
                press.Score(context, layer, head, keep, scores);
                cache.Keep(layer, head, TopIndices(scores, keep));
            }
        }
    }
}
