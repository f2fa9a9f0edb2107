namespace LongCtx.Generation.Sampling;

/// <summary>
/// Draws one candidate at random from the softmax of the logits (<c>llama_sampler_init_dist</c>):
/// probabilities exp(logit - max) summed in double, one uniform draw, the first candidate whose
/// running sum reaches draw·sum. The same seed gives the same draws as llama.cpp's dist sampler.
/// </summary>
public sealed class DistSampler : ISampler
{
    private readonly Mt19937 _random;

    /// <summary>Creates the sampler with its random stream seeded by <paramref name="seed"/>.</summary>
    public DistSampler(uint seed)
    {
        Seed = seed;
        _random = new Mt19937(seed);
    }

    /// <summary>The seed the stream starts from (again after <see cref="Reset"/>).</summary>
    public uint Seed { get; }

    /// <inheritdoc/>
    public void Apply(Candidates candidates)
    {
        Span<TokenCandidate> c = candidates.Span;
        candidates.Selected = 0;
        if (c.Length == 1)
        {
            _random.NextDouble(); // one draw per token whatever the list, as llama.cpp
            c[0].P = 1f;
            return;
        }
        float max = c[0].Logit;
        if (!candidates.Sorted)
        {
            for (int i = 1; i < c.Length; i++)
            {
                max = max < c[i].Logit ? c[i].Logit : max;
            }
        }
        double sum = 0;
        for (int i = 0; i < c.Length; i++)
        {
            float p = MathF.Exp(c[i].Logit - max);
            c[i].P = p;
            sum += p;
        }
        double target = sum * _random.NextDouble();
        double running = 0;
        int selected = -1;
        for (int i = 0; i < c.Length; i++)
        {
            if (selected < 0)
            {
                running += c[i].P;
                if (running >= target)
                {
                    selected = i;
                }
            }
            c[i].P = (float)(c[i].P / sum);
        }
        candidates.Selected = selected < 0 ? c.Length - 1 : selected;
    }

    /// <inheritdoc/>
    public void Accept(int token)
    {
    }

    /// <inheritdoc/>
    public void Reset() => _random.Seed(Seed);
}
