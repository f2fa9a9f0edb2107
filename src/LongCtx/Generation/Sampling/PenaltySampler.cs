namespace LongCtx.Generation.Sampling;

/// <summary>
/// Repetition, frequency and presence penalties over the last N accepted tokens
/// (<c>llama_sampler_init_penalties</c>). For a token seen c &gt; 0 times: a positive logit is
/// divided by the repetition penalty and a negative one multiplied by it (CTRL, Keskar et al. 2019,
/// with llama.cpp's fix for negative logits), then c·frequency + presence is subtracted (OpenAI's
/// definition). Counts live in a per-vocabulary array, so lookups and updates allocate nothing.
/// </summary>
public sealed class PenaltySampler : ISampler
{
    private readonly int[] _counts;
    private readonly int[] _window;
    private int _windowStart;
    private int _windowCount;

    /// <summary>Creates the sampler.</summary>
    /// <param name="vocabSize">Number of token ids.</param>
    /// <param name="lastN">How many of the latest accepted tokens count; 0 turns the penalties off.</param>
    /// <param name="repeat">Repetition penalty; 1 = off.</param>
    /// <param name="frequency">Subtracted once per occurrence; 0 = off.</param>
    /// <param name="presence">Subtracted once if the token occurs at all; 0 = off.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive / negative, the repetition penalty is not positive and finite, or a penalty is not finite.</exception>
    public PenaltySampler(int vocabSize, int lastN, float repeat = 1f, float frequency = 0f, float presence = 0f)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(lastN);
        if (!(repeat > 0f) || !float.IsFinite(repeat))
        {
            throw new ArgumentOutOfRangeException(nameof(repeat), repeat, "the repetition penalty must be a positive finite number (1 = off)");
        }
        if (!float.IsFinite(frequency))
        {
            throw new ArgumentOutOfRangeException(nameof(frequency), frequency, "the frequency penalty must be finite");
        }
        if (!float.IsFinite(presence))
        {
            throw new ArgumentOutOfRangeException(nameof(presence), presence, "the presence penalty must be finite");
        }
        LastN = lastN;
        Repeat = repeat;
        Frequency = frequency;
        Presence = presence;
        _counts = new int[vocabSize];
        _window = new int[lastN];
    }

    /// <summary>Tokens remembered.</summary>
    public int LastN { get; }

    /// <summary>Repetition penalty.</summary>
    public float Repeat { get; }

    /// <summary>Frequency penalty.</summary>
    public float Frequency { get; }

    /// <summary>Presence penalty.</summary>
    public float Presence { get; }

    /// <summary>True when nothing would change (llama.cpp then leaves the sampler out).</summary>
    public bool IsOff => LastN == 0 || (Repeat == 1f && Frequency == 0f && Presence == 0f);

    /// <summary>How often <paramref name="token"/> occurs among the remembered tokens.</summary>
    public int Count(int token) => _counts[token];

    /// <inheritdoc/>
    public void Apply(Candidates candidates)
    {
        if (IsOff)
        {
            return;
        }
        Span<TokenCandidate> c = candidates.Span;
        for (int i = 0; i < c.Length; i++)
        {
            int id = c[i].Id;
            int count = (uint)id < (uint)_counts.Length ? _counts[id] : 0;
            if (count == 0)
            {
                continue;
            }
            c[i].Logit = c[i].Logit <= 0f ? c[i].Logit * Repeat : c[i].Logit / Repeat;
            c[i].Logit -= count * Frequency + Presence;
        }
        candidates.Sorted = false;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="token"/> is not a token id.</exception>
    public void Accept(int token)
    {
        if ((uint)token >= (uint)_counts.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(token), token, $"token id outside [0, {_counts.Length})");
        }
        if (LastN == 0)
        {
            return;
        }
        _counts[token]++;
        if (_windowCount == LastN)
        {
            _counts[_window[_windowStart]]--;
            _window[_windowStart] = token;
            _windowStart = (_windowStart + 1) % LastN;
        }
        else
        {
            _window[(_windowStart + _windowCount) % LastN] = token;
            _windowCount++;
        }
    }

    /// <inheritdoc/>
    public void Reset()
    {
        for (int i = 0; i < _windowCount; i++)
        {
            _counts[_window[(_windowStart + i) % LastN]] = 0;
        }
        _windowStart = 0;
        _windowCount = 0;
    }
}
