using LongCtx.KvCache;
using LongCtx.Models;

namespace LongCtx.Generation;

/// <summary>Options of a <see cref="Session"/>.</summary>
public sealed record SessionOptions
{
    /// <summary>Positions the KV cache holds; 0 = the smaller of the model's context length and 4096.</summary>
    public int ContextSize { get; init; }
    /// <summary>Tokens per forward pass during prefill (llama.cpp's n_ubatch).</summary>
    public int BatchSize { get; init; } = 512;
    /// <summary>Element type of the KV cache. F16 halves its memory and matches llama.cpp's default.</summary>
    public KvCacheType KvCacheType { get; init; } = KvCacheType.F16;
}

/// <summary>
/// One sequence being evaluated: its own KV cache and scratch over a shared, read-only
/// <see cref="Model"/>. Prefill a prompt, then decode token by token. KV methods plug in here:
/// <c>Prefill(context, press)</c> compresses the cache after the context (kvpress style: a
/// question prefilled afterwards stays uncompressed), <see cref="Selector"/> chooses what each
/// decode step reads, and <see cref="CompressDuringDecode"/> keeps a long generation in a budget.
/// </summary>
public sealed class Session
{
    private readonly Model _model;
    private readonly ForwardState _state;
    private readonly KvCache.KvCache _cache;
    private readonly KvHooks _hooks;
    private readonly int[] _one = new int[1];
    private IKvPress? _decodePress;
    private int _decodeInterval, _decodeBudget, _sinceCompress;

    /// <summary>Creates a session with an empty cache.</summary>
    public Session(Model model, SessionOptions? options = null)
    {
        options ??= new SessionOptions();
        _model = model;
        ContextSize = options.ContextSize > 0 ? options.ContextSize : Math.Min(model.Config.ContextLength, 4096);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        _state = new ForwardState(model.Config, Math.Min(options.BatchSize, ContextSize));
        _cache = new KvCache.KvCache(model.Config, ContextSize, options.KvCacheType);
        _hooks = new KvHooks(model.Config, model.Pool);
    }

    /// <summary>Maximum number of positions.</summary>
    public int ContextSize { get; }
    /// <summary>Number of tokens evaluated so far (the next token's position).</summary>
    public int Position { get; private set; }
    /// <summary>Bytes actually held by the KV cache.</summary>
    public long KvCacheBytes => _cache.Bytes;
    /// <summary>The KV cache (read it to inspect what a method kept).</summary>
    public KvCache.KvCache Cache => _cache;
    /// <summary>The logits of the last evaluated token (valid until the next call).</summary>
    public ReadOnlySpan<float> Logits => _state.Logits;
    /// <summary>Chooses the entries each decode step reads (Quest, TokenSelect); null reads all.</summary>
    public IKvSelector? Selector { get => _hooks.Selector; set => _hooks.Selector = value; }

    /// <summary>Evaluates <paramref name="tokens"/> in batches and returns the logits of the last one.</summary>
    /// <exception cref="ArgumentException">Empty input, or the tokens would exceed the context size.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A token id is outside the vocabulary.</exception>
    public ReadOnlySpan<float> Prefill(ReadOnlySpan<int> tokens)
    {
        if (tokens.IsEmpty)
        {
            throw new ArgumentException("no tokens to evaluate", nameof(tokens));
        }
        if (tokens.Length > ContextSize - Position)
        {
            throw new ArgumentException(
                $"{tokens.Length} tokens at position {Position} exceed the context size of {ContextSize} tokens (limit {ContextSize - Position} more)",
                nameof(tokens));
        }
        int vocab = _model.Config.VocabSize;
        foreach (int token in tokens)
        {
            if ((uint)token >= (uint)vocab)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), token,
                    $"token id {token} is out of range: {Path.GetFileName(_model.File.FilePath)} has a vocabulary of {vocab} tokens (ids 0..{vocab - 1})");
            }
        }
        if (tokens.Length > 1)
        {
            // Room for the prompt and the growth step after it at once: growing entry by entry would
            // copy the cache many times over and leave the copies to the collector.
            _cache.Reserve(tokens.Length + Math.Max(64, (Position + tokens.Length) / 16));
        }
        KvHooks? hooks = _hooks.Active || _cache.TracksAttention ? _hooks : null;
        for (int done = 0; done < tokens.Length; done += _state.MaxBatch)
        {
            ReadOnlySpan<int> batch = tokens.Slice(done, Math.Min(_state.MaxBatch, tokens.Length - done));
            _model.Transformer.Forward(_state, batch, Position, _cache, hooks);
            Position += batch.Length;
        }
        return _state.Logits;
    }

    /// <summary>
    /// Evaluates <paramref name="tokens"/> while recording what <paramref name="press"/> needs, then
    /// compresses the cache with it. Tokens prefilled afterwards (a question) stay uncompressed.
    /// </summary>
    public ReadOnlySpan<float> Prefill(ReadOnlySpan<int> tokens, IKvPress press)
    {
        Observe(press);
        Prefill(tokens);
        Compress(press);
        return _state.Logits;
    }

    /// <summary>
    /// Continues the sequence with KV copied from another session of the same model (a shared
    /// prefix: <c>Cache.CopyBlock</c> there, this here) instead of evaluating its tokens. The result is
    /// exactly what prefilling those tokens would have written when they were prefilled in the same
    /// batches there. <see cref="Logits"/> are not updated: prefill at least one more token before sampling.
    /// A press observing this session does not see the block's queries (there are none): apply presses after a fresh prefill.
    /// </summary>
    /// <exception cref="ArgumentException">The block does not start at <see cref="Position"/>, or exceeds the context or the cache's shape.</exception>
    /// <exception cref="InvalidOperationException">The cache was compressed, so a block cannot follow it.</exception>
    public void AppendBlock(KvBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        if (block.Start != Position)
        {
            throw new ArgumentException($"KV block starts at position {block.Start}; the session is at position {Position}", nameof(block));
        }
        _cache.AppendBlock(block);
        Position += block.Count;
    }

    /// <summary>Evaluates one token and returns its logits (compressing first when a decode-time budget is exceeded).</summary>
    public ReadOnlySpan<float> Decode(int token)
    {
        _one[0] = token;
        Prefill(_one);
        if (_decodePress != null && ++_sinceCompress >= _decodeInterval)
        {
            _sinceCompress = 0;
            if (MaxHeadCount() > _decodeBudget)
            {
                _decodePress.Compress(Context(_decodeBudget));
            }
        }
        return _state.Logits;
    }

    /// <summary>Starts recording what <paramref name="press"/> needs during the following evaluations.</summary>
    public void Observe(IKvPress press)
    {
        KvObservationNeeds needs = press.Needs;
        if (needs.QueryWindow > 0 && (_hooks.Observations is null || _hooks.Observations.QueryWindow < needs.QueryWindow))
        {
            _hooks.Observations = new KvObservations(_model.Config, needs.QueryWindow);
        }
        if (needs.AccumulatedAttention)
        {
            _cache.TrackAttention(true);
        }
    }

    /// <summary>Compresses the cache with <paramref name="press"/> now, then stops observing (unless decode-time compression needs it).</summary>
    /// <exception cref="KvObservationException">The press needs observations that were not recorded (see <see cref="Observe"/>).</exception>
    public void Compress(IKvPress press)
    {
        press.Compress(Context(0));
        if (_decodePress is null)
        {
            _hooks.Observations = null;
            _cache.TrackAttention(false);
        }
    }

    /// <summary>
    /// Every <paramref name="interval"/> decode steps, compresses with <paramref name="press"/> back to
    /// <paramref name="budget"/> entries per head when any head holds more. Pass null to stop.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Interval or budget below 1.</exception>
    public void CompressDuringDecode(IKvPress? press, int interval = 64, int budget = 1024)
    {
        _decodePress = press;
        if (press is null)
        {
            return;
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 1);
        _decodeInterval = interval;
        _decodeBudget = budget;
        _sinceCompress = 0;
        Observe(press);
    }

    /// <summary>Forgets every evaluated token and releases the cache.</summary>
    public void Reset()
    {
        Position = 0;
        _cache.Clear();
        _hooks.Observations?.Clear();
    }

    private KvPressContext Context(int target) => new()
    {
        Cache = _cache,
        Config = _model.Config,
        RopeFreqFactors = _model.Weights.RopeFreqFactors,
        Observations = _hooks.Observations,
        Position = Position,
        TargetCount = target,
        Pool = _model.Pool,
    };

    private int MaxHeadCount()
    {
        int max = 0;
        for (int l = 0; l < _cache.LayerCount; l++)
        {
            for (int h = 0; h < _cache.HeadCountKv; h++)
            {
                max = Math.Max(max, _cache.Count(l, h));
            }
        }
        return max;
    }
}
