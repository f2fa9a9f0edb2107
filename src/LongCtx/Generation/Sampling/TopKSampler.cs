namespace LongCtx.Generation.Sampling;

/// <summary>
/// Keeps the k candidates with the highest logits, sorted best first (<c>llama_sampler_init_top_k</c>;
/// Fan et al. 2018, "Hierarchical Neural Story Generation"). k = 0 keeps everything.
/// </summary>
public sealed class TopKSampler : ISampler
{
    /// <summary>Creates the sampler.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is negative.</exception>
    public TopKSampler(int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        K = k;
    }

    /// <summary>Candidates kept; 0 = all.</summary>
    public int K { get; }

    /// <inheritdoc/>
    public void Apply(Candidates candidates)
    {
        if (K == 0)
        {
            return;
        }
        int k = Math.Min(K, candidates.Count);
        if (!candidates.Sorted)
        {
            candidates.SortTop(k);
        }
        candidates.Truncate(k);
        candidates.Sorted = true;
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
