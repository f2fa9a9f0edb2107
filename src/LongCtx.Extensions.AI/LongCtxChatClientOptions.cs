using LongCtx.Generation;
using LongCtx.Generation.Sampling;
using LongCtx.KvCache;
using LongCtx.Tokenization;

namespace LongCtx.Extensions.AI;

/// <summary>Settings of a <see cref="LongCtxChatClient"/>: its session, chat template and the defaults a call's <c>ChatOptions</c> leave open.</summary>
public sealed record LongCtxChatClientOptions
{
    /// <summary>Positions of the client's KV cache (prompt and answer together); 0 (the default) = the smaller of the model's context length and 4096, as <see cref="SessionOptions.ContextSize"/>.</summary>
    public int ContextSize { get; init; }

    /// <summary>Element type of the KV cache; F16 (the default) as llama.cpp.</summary>
    public KvCacheType KvCacheType { get; init; } = KvCacheType.F16;

    /// <summary>The chat template; null (the default) = the model's own (<c>tokenizer.chat_template</c>), else chatml, as llama.cpp's tools.</summary>
    public ChatTemplate? ChatTemplate { get; init; }

    /// <summary>The id the client reports and accepts in <c>ChatOptions.ModelId</c>; null (the default) = the model file's name, as <c>longctx serve</c>.</summary>
    public string? ModelId { get; init; }

    /// <summary>Sampling for what a call's <c>ChatOptions</c> leave null (min-p, repeat penalty and its window are only set here).
    /// Default: llama.cpp's defaults (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, a random seed).</summary>
    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Token budget when <c>ChatOptions.MaxOutputTokens</c> is null; null (the default) = until the context is full or the model ends its turn.</summary>
    public int? MaxOutputTokens { get; init; }

    /// <summary>KV method for calls that name none in <c>ChatOptions.AdditionalProperties["kv"]</c>: a <see cref="KvMethodRegistry"/> spec
    /// such as <c>snapkv:ratio=0.5</c> (as <c>--kv</c>); null or <c>full</c> (the default) keeps the full cache.</summary>
    public string? Kv { get; init; }
}
