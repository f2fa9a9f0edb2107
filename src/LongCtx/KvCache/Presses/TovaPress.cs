namespace LongCtx.KvCache.Presses;

/// <summary>
/// TOVA: keep the entries the last token attends to most (averaged over the query heads of the
/// group; the paper averages over all heads of a layer, which GQA splits per KV head); the last
/// token's own entry is always kept. "Transformers are Multi-State RNNs", arXiv:2401.06104.
/// </summary>
public sealed class TovaPress : ScorerPress
{
    /// <inheritdoc/>
    public override KvObservationNeeds Needs => new(QueryWindow: 1);

    /// <inheritdoc/>
    protected internal override void Score(KvPressContext context, int layer, int kvHead, int keep, Span<float> scores)
    {
        KvObservations observed = context.RequireQueries("tova", 1);
        var mean = new float[scores.Length];
        int older = KvScoring.WindowAttention(context, observed, layer, kvHead, 1, mean);
        mean.AsSpan(0, older).CopyTo(scores);
        scores[older..].Fill(float.PositiveInfinity);
    }
}
