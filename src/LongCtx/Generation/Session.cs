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
/// <see cref="Model"/>. Prefill a prompt, then decode token by token.
/// </summary>
public sealed class Session
{
    private readonly Model _model;
    private readonly ForwardState _state;
    private readonly KvCache.KvCache _cache;
    private readonly int[] _one = new int[1];

    /// <summary>Creates a session with an empty cache.</summary>
    public Session(Model model, SessionOptions? options = null)
    {
        options ??= new SessionOptions();
        _model = model;
        ContextSize = options.ContextSize > 0 ? options.ContextSize : Math.Min(model.Config.ContextLength, 4096);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        _state = new ForwardState(model.Config, Math.Min(options.BatchSize, ContextSize));
        _cache = new KvCache.KvCache(model.Config, ContextSize, options.KvCacheType);
    }

    /// <summary>Maximum number of positions.</summary>
    public int ContextSize { get; }
    /// <summary>Number of tokens evaluated so far (the next token's position).</summary>
    public int Position { get; private set; }
    /// <summary>Bytes held by the KV cache.</summary>
    public long KvCacheBytes => _cache.Bytes;
    /// <summary>The logits of the last evaluated token (valid until the next call).</summary>
    public ReadOnlySpan<float> Logits => _state.Logits;

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
        for (int done = 0; done < tokens.Length; done += _state.MaxBatch)
        {
            ReadOnlySpan<int> batch = tokens.Slice(done, Math.Min(_state.MaxBatch, tokens.Length - done));
            _model.Transformer.Forward(_state, batch, Position, _cache);
            Position += batch.Length;
        }
        return _state.Logits;
    }

    /// <summary>Evaluates one token and returns its logits.</summary>
    public ReadOnlySpan<float> Decode(int token)
    {
        _one[0] = token;
        return Prefill(_one);
    }

    /// <summary>Forgets every evaluated token.</summary>
    public void Reset() => Position = 0;
}
