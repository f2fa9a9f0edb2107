namespace LongCtx.Generation.Sampling;

/// <summary>
/// Nucleus sampling (Holtzman et al. 2019, arXiv:1904.09751; <c>llama_sampler_init_top_p</c>): keeps
/// the smallest set of best candidates whose probabilities sum to at least p (and at least
/// <see cref="MinKeep"/> of them), sorted best first. p = 1 keeps everything.
/// </summary>
public sealed class TopPSampler : ISampler
{
    // Sort only this many first; nearly always enough, as llama.cpp's adaptive top-k before top-p.
    private const int FirstSort = 256;

    /// <summary>Creates the sampler.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is outside (0, 1], or <paramref name="minKeep"/> is negative.</exception>
    public TopPSampler(float p, int minKeep = 0)
    {
        if (!(p > 0f && p <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "top-p must be in (0, 1]");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(minKeep);
        P = p;
        MinKeep = minKeep;
    }

    /// <summary>Probability mass kept.</summary>
    public float P { get; }

    /// <summary>Fewest candidates kept.</summary>
    public int MinKeep { get; }

    /// <inheritdoc/>
    public void Apply(Candidates candidates)
    {
        if (P >= 1f)
        {
            return;
        }
        // Probabilities first, in the current order (the float sum depends on it), then sort.
        candidates.Softmax();
        int n = candidates.Count;
        int sorted = n;
        if (!candidates.Sorted)
        {
            sorted = Math.Min(FirstSort, n);
            candidates.SortTop(sorted);
        }
        Span<TokenCandidate> c = candidates.Span;
        float cumulative = 0f;
        int keep = n;
        for (int i = 0; i < n; i++)
        {
            cumulative += c[i].P;
            if (cumulative >= P && i + 1 >= MinKeep)
            {
                keep = i + 1;
                break;
            }
            if (i == sorted - 1 && sorted < n)
            {
                candidates.SortFrom(sorted);
                sorted = n;
            }
        }
        candidates.Truncate(keep);
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
