namespace LongCtx.Generation.Sampling;

/// <summary>Selects the candidate with the highest logit; the first in the current order wins ties (<c>llama_sampler_init_greedy</c>).</summary>
public sealed class GreedySampler : ISampler
{
    /// <inheritdoc/>
    public void Apply(Candidates candidates)
    {
        ReadOnlySpan<TokenCandidate> c = candidates.Span;
        int best = 0;
        for (int i = 1; i < c.Length; i++)
        {
            if (c[i].Logit > c[best].Logit)
            {
                best = i;
            }
        }
        candidates.Selected = best;
    }

    /// <inheritdoc/>
    public void Accept(int token)
    {
    }

    /// <inheritdoc/>
    public void Reset()
    {
    }
}
