using LongCtx.Tensors;

namespace LongCtx.KvCache.Presses;

/// <summary>
/// AdaKV: head-adaptive budgets over any scorer. The layer's budget (the sum of the heads'
/// budgets) goes to the highest scores across all its heads, so heads that need more keep more;
/// each head keeps at least <see cref="Alpha"/> of its own budget. Heads then really hold
/// different numbers of entries. arXiv:2407.11550.
/// </summary>
public sealed class AdaKvPress(ScorerPress scorer) : IKvPress
{
    private readonly double _alpha = 0.2;

    /// <summary>The scoring rule (and its ratio).</summary>
    public ScorerPress Scorer { get; } = scorer;

    /// <summary>Safeguard: the fraction of its uniform budget every head keeps (0.2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [0, 1].</exception>
    public double Alpha { get => _alpha; init => _alpha = value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Alpha), value, "alpha must be in [0, 1]"); }

    /// <inheritdoc/>
    public KvObservationNeeds Needs => Scorer.Needs;

    /// <inheritdoc/>
    public void Compress(KvPressContext context)
    {
        var work = new LayerWork(this, context);
        if (context.Pool is null)
        {
            work.Execute(0, context.Cache.LayerCount);
        }
        else
        {
            context.Pool.For(context.Cache.LayerCount, work);
        }
    }

    private void CompressLayer(KvPressContext context, int layer)
    {
        KvCache cache = context.Cache;
        int heads = cache.HeadCountKv, total = 0, budget = 0;
        var offsets = new int[heads + 1];
        for (int h = 0; h < heads; h++)
        {
            offsets[h + 1] = offsets[h] + cache.Count(layer, h);
        }
        total = offsets[heads];
        if (total == 0)
        {
            return;
        }
        var scores = new float[total];
        for (int h = 0; h < heads; h++)
        {
            int n = offsets[h + 1] - offsets[h];
            if (n == 0)
            {
                continue;
            }
            int keep = Scorer.KeepCount(context, layer, n);
            budget += keep;
            Span<float> s = scores.AsSpan(offsets[h], n);
            Scorer.Score(context, layer, h, keep, s);
            foreach (int j in ScorerPress.TopIndices(s, (int)(keep * Alpha)))
            {
                s[j] = float.PositiveInfinity; // the safeguard
            }
        }

        // One top-k over every head of the layer
        int[] chosen = ScorerPress.TopIndices(scores, budget);
        int start = 0;
        for (int h = 0; h < heads; h++)
        {
            int end = start;
            while (end < chosen.Length && chosen[end] < offsets[h + 1])
            {
                end++;
            }
            var kept = new int[end - start];
            for (int i = 0; i < kept.Length; i++)
            {
                kept[i] = chosen[start + i] - offsets[h];
            }
            if (offsets[h + 1] > offsets[h])
            {
                cache.Keep(layer, h, kept);
            }
            start = end;
        }
    }

    private readonly struct LayerWork(AdaKvPress press, KvPressContext context) : IParallelWork
    {
        public void Execute(int start, int end)
        {
            for (int layer = start; layer < end; layer++)
            {
                press.CompressLayer(context, layer);
            }
        }
    }
}
