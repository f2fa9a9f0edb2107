namespace LongCtx.Generation.Sampling;

/// <summary>
/// Samplers applied in order over one candidate buffer allocated at construction
/// (<c>llama_sampler_chain</c>): <see cref="Sample"/> turns a row of logits into a token and
/// allocates nothing. Call <see cref="Accept"/> with every token that joins the text (the prompt's,
/// then each generated one) so that the penalties see it; <see cref="Sample"/> does not accept by
/// itself, so that a caller may sample and then discard (speculative verification).
/// </summary>
public sealed class SamplerChain
{
    private readonly ISampler[] _samplers;

    /// <summary>The chain llama.cpp builds from the same options (<c>common_sampler_init</c> with its default order).</summary>
    /// <param name="options">The options; validated here.</param>
    /// <param name="vocabSize">Length of every logits row.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (named), or a logit bias names a token outside the vocabulary.</exception>
    public SamplerChain(SamplingOptions options, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        options.Validate();
        var samplers = new List<ISampler>();
        if (options.LogitBias is { Count: > 0 } bias)
        {
            samplers.Add(new LogitBiasSampler(vocabSize, bias));
        }
        var penalties = new PenaltySampler(vocabSize, options.PenaltyLastN, options.RepeatPenalty, options.FrequencyPenalty, options.PresencePenalty);
        if (!penalties.IsOff)
        {
            samplers.Add(penalties);
        }
        if (options.Temperature == 0f)
        {
            // Top-k/p and min-p always keep the best token, so greedy needs none of them.
            samplers.Add(new GreedySampler());
        }
        else
        {
            AddIf(samplers, options.TopK > 0, () => new TopKSampler(options.TopK));
            AddIf(samplers, options.TopP < 1f, () => new TopPSampler(options.TopP, options.MinKeep));
            AddIf(samplers, options.MinP > 0f, () => new MinPSampler(options.MinP, options.MinKeep));
            AddIf(samplers, options.Temperature != 1f, () => new TemperatureSampler(options.Temperature));
            samplers.Add(new DistSampler(options.Seed ?? (uint)Random.Shared.Next()));
        }
        _samplers = [.. samplers];
        Candidates = new Candidates(vocabSize);
    }

    /// <summary>A chain of the given samplers, in order; the last must select a token (e.g. <see cref="DistSampler"/> or <see cref="GreedySampler"/>).</summary>
    /// <exception cref="ArgumentException">No samplers, or a null one.</exception>
    public SamplerChain(int vocabSize, IEnumerable<ISampler> samplers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        ArgumentNullException.ThrowIfNull(samplers);
        _samplers = [.. samplers];
        if (_samplers.Length == 0 || Array.IndexOf(_samplers, null) >= 0)
        {
            throw new ArgumentException("a chain needs at least one sampler and no null ones", nameof(samplers));
        }
        Candidates = new Candidates(vocabSize);
    }

    /// <summary>Length of every logits row.</summary>
    public int VocabSize => Candidates.Capacity;

    /// <summary>The samplers, in the order they run.</summary>
    public IReadOnlyList<ISampler> Samplers => _samplers;

    /// <summary>The seed of the random draw, or null when the chain draws nothing (greedy).</summary>
    public uint? Seed
    {
        get
        {
            foreach (ISampler s in _samplers)
            {
                if (s is DistSampler d)
                {
                    return d.Seed;
                }
            }
            return null;
        }
    }

    /// <summary>The candidates as the last <see cref="Sample"/> left them (after every sampler; probabilities set by the draw).</summary>
    public Candidates Candidates { get; }

    /// <summary>Chooses the next token from a row of logits.</summary>
    /// <exception cref="ArgumentException"><paramref name="logits"/> is not <see cref="VocabSize"/> long.</exception>
    /// <exception cref="InvalidOperationException">The chain's last sampler selected nothing.</exception>
    public int Sample(ReadOnlySpan<float> logits)
    {
        if (logits.Length != VocabSize)
        {
            throw new ArgumentException($"{logits.Length} logits for a vocabulary of {VocabSize}", nameof(logits));
        }
        Candidates.Load(logits);
        foreach (ISampler sampler in _samplers)
        {
            sampler.Apply(Candidates);
        }
        return Candidates.SelectedToken;
    }

    /// <summary>Records a token that joined the text, for every sampler (the penalties count it).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="token"/> is outside the vocabulary.</exception>
    public void Accept(int token)
    {
        if ((uint)token >= (uint)VocabSize)
        {
            throw new ArgumentOutOfRangeException(nameof(token), token, $"token id outside [0, {VocabSize})");
        }
        foreach (ISampler sampler in _samplers)
        {
            sampler.Accept(token);
        }
    }

    /// <summary>Forgets accepted tokens and restarts the random stream from its seed: the next run repeats the first.</summary>
    public void Reset()
    {
        foreach (ISampler sampler in _samplers)
        {
            sampler.Reset();
        }
    }

    private static void AddIf(List<ISampler> samplers, bool condition, Func<ISampler> create)
    {
        if (condition)
        {
            samplers.Add(create());
        }
    }
}
