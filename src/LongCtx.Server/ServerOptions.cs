using LongCtx.KvCache;

namespace LongCtx.Server;

/// <summary>Settings of a <see cref="LongCtxServer"/>. Each default is what <c>longctx serve</c> uses.</summary>
public sealed record ServerOptions
{
    /// <summary>The GGUF model file to serve (required).</summary>
    public string ModelPath { get; init; } = "";

    /// <summary>The model's id in <c>/v1/models</c> and the only id requests may name; null = the file name.</summary>
    public string? ModelAlias { get; init; }

    /// <summary>Address to listen on. Loopback by default: exposing a model is a decision, not a default.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 = any free port (see <see cref="LongCtxServer.Address"/>).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>When set, every request but <c>/health</c> needs <c>Authorization: Bearer KEY</c>.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Positions each sequence's KV cache holds; 0 = the smaller of the model's context and 4096.</summary>
    public int ContextSize { get; init; }

    /// <summary>Sequences generated at once; more requests wait in the queue.</summary>
    public int Parallel { get; init; } = 4;

    /// <summary>Longest prompt accepted, in tokens; 0 = the context size minus one (room for one answer token).</summary>
    public int MaxPromptTokens { get; init; }

    /// <summary>A request that has not finished after this long is cancelled (queue time included).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Largest request body accepted, in bytes (413 above it). 8 MiB holds a 1M-character prompt with room to spare.</summary>
    public long MaxRequestBodyBytes { get; init; } = 8L << 20;

    /// <summary>Prompt tokens one sequence evaluates per scheduler step, so a long prompt does not stall running streams.</summary>
    public int PrefillChunk { get; init; } = 256;

    /// <summary>Worker threads for the forward pass; 0 = one per logical core.</summary>
    public int Threads { get; init; }

    /// <summary>Element type of the KV caches.</summary>
    public KvCacheType KvCacheType { get; init; } = KvCacheType.F16;

    /// <summary>A built-in chat template name ("chatml", "llama3", ...) overriding the file's; null = the file's, or chatml when it has none (as llama.cpp).</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>
    /// Most bytes the prefix cache may hold: KV of prompt prefixes reused across requests, evicted
    /// least recently used first; 0 = no prefix cache. 512 MiB holds about 43K tokens of a
    /// Qwen2.5-0.5B-shaped model's F16 KV (12 KiB a token).
    /// </summary>
    public long PrefixCacheBytes { get; init; } = 512L << 20;

    /// <summary>
    /// Tokens per prefix-cache block: prefixes are reused in whole blocks. 16 as vLLM's default: fine
    /// enough to reuse most of a shared prefix, coarse enough to keep the tree small. With a block
    /// size that divides <see cref="PrefillChunk"/> (or a multiple of it), a reused prefix gives
    /// exactly the results of a fresh prefill.
    /// </summary>
    public int PrefixBlockTokens { get; init; } = 16;
}
