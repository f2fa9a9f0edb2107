namespace LongCtx.Generation.Sampling;

/// <summary>
/// Adds a fixed bias to chosen tokens' logits (<c>llama_sampler_init_logit_bias</c>);
/// -∞ bans a token. Candidates still in id order are found by index, others by search.
/// </summary>
public sealed class LogitBiasSampler : ISampler
{
    private readonly int[] _tokens;
    private readonly float[] _biases;
    private readonly int[] _pending;

    /// <summary>Creates the sampler.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A token id is outside [0, <paramref name="vocabSize"/>), or a bias is NaN or +∞.</exception>
    public LogitBiasSampler(int vocabSize, IReadOnlyDictionary<int, float> biases)
    {
        ArgumentNullException.ThrowIfNull(biases);
        _tokens = new int[biases.Count];
        _biases = new float[biases.Count];
        _pending = new int[biases.Count];
        int n = 0;
        foreach ((int token, float bias) in biases.OrderBy(b => b.Key))
        {
            if ((uint)token >= (uint)vocabSize)
            {
                throw new ArgumentOutOfRangeException(nameof(biases), token, $"logit bias for token {token}, outside the vocabulary [0, {vocabSize})");
            }
            if (float.IsNaN(bias) || float.IsPositiveInfinity(bias))
            {
                throw new ArgumentOutOfRangeException(nameof(biases), bias, $"logit bias {bias} for token {token}: must be a number or -∞");
            }
            _tokens[n] = token;
            _biases[n] = bias;
            n++;
        }
    }

    /// <inheritdoc/>
    public void Apply(Candidates candidates)
    {
        Span<TokenCandidate> c = candidates.Span;
        int pending = 0;
        for (int b = 0; b < _tokens.Length; b++)
        {
            int token = _tokens[b];
            if (token < c.Length && c[token].Id == token)
            {
                c[token].Logit += _biases[b];
            }
            else
            {
                _pending[pending++] = b;
            }
        }
        for (int i = 0; i < c.Length && pending > 0; i++)
        {
            for (int j = 0; j < pending; j++)
            {
                if (c[i].Id == _tokens[_pending[j]])
                {
                    c[i].Logit += _biases[_pending[j]];
                    break;
                }
            }
        }
        if (_tokens.Length > 0)
        {
            candidates.Sorted = false;
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
