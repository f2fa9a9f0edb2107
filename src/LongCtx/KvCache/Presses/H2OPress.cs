namespace LongCtx.KvCache.Presses;

/// <summary>
/// H2O (heavy hitters): keep the entries with the largest attention accumulated over every query
/// that saw them, plus the most recent ones (the paper splits the budget between the two;
/// <see cref="Recent"/> of it goes to recent entries). arXiv:2306.14048.
/// </summary>
public sealed class H2OPress : ScorerPress
{
    private readonly double _recent = 0.5;

    /// <summary>Fraction of the kept entries reserved for the most recent ones (0.5, the paper's split).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [0, 1].</exception>
    public double Recent { get => _recent; init => _recent = value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Recent), value, "recent must be in [0, 1]"); }

    /// <inheritdoc/>
    public override KvObservationNeeds Needs => new(AccumulatedAttention: true);

    /// <inheritdoc/>
    protected internal override void Score(KvPressContext context, int layer, int kvHead, int keep, Span<float> scores)
    {
        if (!context.Cache.TracksAttention)
        {
            throw new KvObservationException("h2o needs the attention accumulated during prefill, which was not tracked: pass the press to Session.Prefill (or call Session.Observe before evaluating)");
        }
        ReadOnlySpan<float> accumulated = context.Cache.AccumulatedAttention(layer, kvHead);
        int n = scores.Length, recent = (int)(keep * Recent);
        accumulated.CopyTo(scores);
        scores[(n - recent)..].Fill(float.PositiveInfinity);
    }
}
