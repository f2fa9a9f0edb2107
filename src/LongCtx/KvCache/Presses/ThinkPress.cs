using LongCtx.Models;

namespace LongCtx.KvCache.Presses;

/// <summary>
/// ThinK: prune the key channels that matter least to the recent queries, scored per KV head as
/// mean(q_c²) over the last <see cref="Window"/> queries of the group × mean(k_c²) over the
/// entries. The pruned channels are really dropped from storage (keys shrink by
/// <see cref="Ratio"/>, the cache by Ratio / 2) and later keys are stored without them; attention
/// projects each query on the kept channels. A head is pruned once: applying the press again
/// (decode-time compression) leaves pruned heads alone. arXiv:2407.21018.
/// </summary>
public sealed class ThinkPress : IKvPress
{
    private readonly double _ratio;
    private readonly int _window = 32;

    /// <summary>Fraction of key channels to prune, in [0, 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [0, 1).</exception>
    public double Ratio { get => _ratio; init => _ratio = value is >= 0 and < 1 ? value : throw new ArgumentOutOfRangeException(nameof(Ratio), value, "the channel ratio must be in [0, 1)"); }

    /// <summary>Recent queries that score the channels (32).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
    public int Window { get => _window; init => _window = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Window), value, "the window must be at least 1"); }

    /// <inheritdoc/>
    public KvObservationNeeds Needs => new(QueryWindow: Window);

    /// <inheritdoc/>
    public void Compress(KvPressContext context)
    {
        KvCache cache = context.Cache;
        ModelConfig c = context.Config;
        int hd = c.HeadDim, group = c.KvGroup;
        KvObservations? observed = null;
        for (int layer = 0; layer < cache.LayerCount; layer++)
        {
            for (int h = 0; h < cache.HeadCountKv; h++)
            {
                KvHeadView head = cache.Head(layer, h);
                int kd = head.KeyDim, prune = (int)Math.Floor(kd * Ratio + 1e-9);
                if (prune == 0 || head.Count == 0 || !head.KeyChannels.IsEmpty)
                {
                    continue;
                }
                observed ??= context.RequireQueries("think", Window);
                int w = Math.Min(Window, observed.QueryCount), first = observed.QueryCount - w;
                var score = new float[kd];
                var queryPower = new float[kd];
                var keyPower = new float[kd];
                var q = new float[Math.Max(hd, kd)];
                for (int i = first; i < observed.QueryCount; i++)
                {
                    for (int g = 0; g < group; g++)
                    {
                        Span<float> p = head.ProjectQuery(observed.Queries(layer, i).Slice((h * group + g) * hd, hd), q);
                        for (int a = 0; a < kd; a++) queryPower[a] += p[a] * p[a];
                    }
                }
                var key = new float[kd];
                for (int j = 0; j < head.Count; j++)
                {
                    head.ReadKey(j, key);
                    for (int a = 0; a < kd; a++) keyPower[a] += key[a] * key[a];
                }
                for (int a = 0; a < kd; a++)
                {
                    score[a] = queryPower[a] / (w * group) * (keyPower[a] / head.Count);
                }
                cache.PruneKeyChannels(layer, h, ScorerPress.TopIndices(score, kd - prune));
            }
        }
    }
}
