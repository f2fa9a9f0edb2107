namespace LongCtx.KvCache.Presses;

/// <summary>
/// SnapKV: keep the entries that the last <see cref="Window"/> queries (the observation window)
/// attend to, averaged over the window and the query heads of the group and smoothed by an
/// average pool of <see cref="Kernel"/>; the window itself is always kept. arXiv:2404.14469.
/// </summary>
public class SnapKvPress : ScorerPress
{
    private readonly int _window = 64, _kernel = 5;

    /// <summary>Queries in the observation window (64 in the paper and kvpress).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
    public int Window { get => _window; init => _window = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Window), value, "the window must be at least 1"); }

    /// <summary>Width of the average pool over neighbouring entries (5; 1 = none).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
    public int Kernel { get => _kernel; init => _kernel = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Kernel), value, "the kernel must be at least 1"); }

    /// <inheritdoc/>
    public override KvObservationNeeds Needs => new(QueryWindow: Window);

    /// <inheritdoc/>
    protected internal override void Score(KvPressContext context, int layer, int kvHead, int keep, Span<float> scores)
    {
        KvObservations observed = context.RequireQueries("snapkv", Window);
        var mean = new float[scores.Length];
        int older = KvScoring.WindowAttention(context, observed, layer, kvHead, Window, mean);

        // avg_pool1d with zero padding (count_include_pad), over the entries older than the window
        int half = Kernel / 2;
        for (int j = 0; j < older; j++)
        {
            float sum = 0;
            for (int i = Math.Max(0, j - half); i <= Math.Min(older - 1, j + half); i++)
            {
                sum += mean[i];
            }
            scores[j] = sum / Kernel;
        }
        scores[older..].Fill(float.PositiveInfinity);
    }
}
