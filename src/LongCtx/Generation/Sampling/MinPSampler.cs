namespace LongCtx.Generation.Sampling;

/// <summary>
/// Min-p (Nguyen et al. 2024, arXiv:2407.01082; <c>llama_sampler_init_min_p</c>): keeps the
/// candidates whose probability is at least p times the best one's, i.e. logit ≥ max + ln p.
/// Unsorted candidates keep their order. p = 0 keeps everything.
/// </summary>
public sealed class MinPSampler : ISampler
{
    /// <summary>Creates the sampler.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is outside [0, 1], or <paramref name="minKeep"/> is negative.</exception>
    public MinPSampler(float p, int minKeep = 0)
    {
        if (!(p >= 0f && p <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "min-p must be in [0, 1]");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(minKeep);
        P = p;
        MinKeep = minKeep;
    }

    /// <summary>Fraction of the best probability a candidate needs.</summary>
    public float P { get; }

    /// <summary>Fewest candidates kept.</summary>
    public int MinKeep { get; }

    /// <inheritdoc/>
    public void Apply(Candidates candidates)
    {
        if (P <= 0f)
        {
            return;
        }
        Span<TokenCandidate> c = candidates.Span;
        if (!candidates.Sorted)
        {
            float max = -float.MaxValue;
            for (int i = 0; i < c.Length; i++)
            {
                max = max < c[i].Logit ? c[i].Logit : max;
            }
            float minLogit = max + MathF.Log(P);
            int kept = 0;
            for (int i = 0; i < c.Length; i++)
            {
                kept += c[i].Logit >= minLogit ? 1 : 0;
            }
            if (kept > 0 && kept >= MinKeep)
            {
                int w = 0;
                for (int i = 0; i < c.Length; i++)
                {
                    if (c[i].Logit >= minLogit)
                    {
                        c[w++] = c[i];
                    }
                }
                candidates.Truncate(kept);
                return;
            }
            candidates.SortTop(c.Length);
        }
        // Sorted: the best always stays; stop at the first one below the bar once MinKeep are in.
        float bar = c[0].Logit + MathF.Log(P);
        int n = 1;
        while (n < c.Length && !(c[n].Logit < bar && n >= MinKeep))
        {
            n++;
        }
        candidates.Truncate(n);
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
