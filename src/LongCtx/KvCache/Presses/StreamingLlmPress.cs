namespace LongCtx.KvCache.Presses;

/// <summary>
/// StreamingLLM: keep the first <see cref="Sinks"/> entries (attention sinks) and the most recent
/// ones, drop the middle. arXiv:2309.17453.
/// </summary>
public sealed class StreamingLlmPress : ScorerPress
{
    /// <summary>Initial entries always kept (the paper's 4 attention sinks).</summary>
    public int Sinks { get; init; } = 4;

    /// <inheritdoc/>
    protected internal override void Score(KvPressContext context, int layer, int kvHead, int keep, Span<float> scores)
    {
        int n = scores.Length, sinks = Math.Min(Sinks, keep), window = keep - sinks;
        for (int j = 0; j < n; j++)
        {
            scores[j] = j < sinks || j >= n - window ? 1 : 0;
        }
    }
}
