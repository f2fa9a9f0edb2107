namespace LongCtx.Generation.Sampling;

/// <summary>
/// Divides every logit by the temperature (<c>llama_sampler_init_temp</c>): below 1 the
/// distribution sharpens, above 1 it flattens. Temperature 0 is greedy decoding, which a chain
/// does with <see cref="GreedySampler"/> instead.
/// </summary>
public sealed class TemperatureSampler : ISampler
{
    /// <summary>Creates the sampler.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="temperature"/> is not a positive finite number.</exception>
    public TemperatureSampler(float temperature)
    {
        if (!(temperature > 0f) || !float.IsFinite(temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "the temperature must be a positive finite number");
        }
        Temperature = temperature;
    }

    /// <summary>The divisor.</summary>
    public float Temperature { get; }

    /// <inheritdoc/>
    public void Apply(Candidates candidates)
    {
        Span<TokenCandidate> c = candidates.Span;
        for (int i = 0; i < c.Length; i++)
        {
            c[i].Logit /= Temperature;
        }
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
