namespace LongCtx.Reference;

/// <summary>How llama.cpp runs attention. Values are llama.cpp's <c>enum llama_flash_attn_type</c>.</summary>
public enum LlamaFlashAttention
{
    /// <summary>llama.cpp decides; on the CPU backend this resolves to <see cref="Enabled"/>.</summary>
    Auto = -1,
    /// <summary>Plain attention: KQ = K·Q, F32 softmax, KQV = V·softmax (three ggml ops).</summary>
    Disabled = 0,
    /// <summary>The fused <c>flash_attn_ext</c> kernel with an online softmax.</summary>
    Enabled = 1,
}

/// <summary>Element type of llama.cpp's KV cache. Values are ggml type ids (<c>type_k</c>, <c>type_v</c>).</summary>
public enum LlamaKvCacheType
{
    /// <summary>GGML_TYPE_F32: no rounding of K, V, Q or attention weights.</summary>
    F32 = 0,
    /// <summary>GGML_TYPE_F16: llama.cpp's default.</summary>
    F16 = 1,
}

/// <summary>Settings for <see cref="LlamaReference.Load"/>.</summary>
public sealed record LlamaReferenceOptions
{
    /// <summary>KV cache size in tokens. llama.cpp rounds it up to a multiple of 256.</summary>
    public int ContextSize { get; init; } = 512;

    /// <summary>
    /// Tokens per <c>llama_decode</c> call (used as both n_batch and n_ubatch, so one call is one
    /// compute graph). Null = <see cref="ContextSize"/>, so a prompt that fits is one batch.
    /// </summary>
    public int? BatchSize { get; init; }

    /// <summary>Threads for both single-token and batch decoding. 2 = the cores of our CI machine.</summary>
    public int Threads { get; init; } = 2;

    /// <summary>
    /// Disabled by default: it is llama.cpp's textbook path (separate KQ, softmax, KQV ops), the
    /// one our dense attention is the readable twin of, and it rounds least. The plain path keeps
    /// the softmax and all sums in F32 and, with an F16 cache, rounds only Q and the attention
    /// weights to F16 at the two matmuls (with an F32 cache nothing is rounded). Flash attention
    /// casts K and V to F16 even when the cache is F32 (llama-graph.cpp), and its one-query kernel
    /// (decode) accumulates the V-weighted sum in F16 (<c>VKQ16</c> in ggml-cpu ops.cpp) while
    /// batched prefill uses a tiled kernel, so decode and prefill round differently.
    /// <see cref="LlamaFlashAttention.Auto"/> turns flash attention on for the CPU backend.
    /// </summary>
    public LlamaFlashAttention FlashAttention { get; init; } = LlamaFlashAttention.Disabled;

    /// <summary>
    /// F16 by default: llama.cpp's own default, so the oracle behaves like the peer we benchmark.
    /// Use <see cref="LlamaKvCacheType.F32"/> (with flash attention disabled) for the tightest
    /// differential tests: then the attention path has no F16 rounding at all.
    /// </summary>
    public LlamaKvCacheType KvCacheType { get; init; } = LlamaKvCacheType.F16;

    /// <summary>
    /// llama.cpp's <c>use_extra_bufts</c> (default true): lets the CPU backend repack weights into
    /// interleaved layouts with their own GEMM/GEMV kernels (on x86: Q4_0, Q4_K, IQ4_NL, MXFP4 with
    /// AVX2, Q2_K with AVX512; Q8_0 only on ARM). Activations are quantized to Q8_0/Q8_K as on the
    /// plain path, but sums run in a different order. Set false to keep the plain kernels
    /// (tinyBLAS <c>llamafile_sgemm</c> where it applies, else <c>vec_dot</c>).
    /// </summary>
    public bool RepackWeights { get; init; } = true;

    /// <summary>
    /// Load only the vocabulary (<c>llama_model_params.vocab_only</c>): no tensors, hyper-parameters
    /// or context, so a tokenizer-only GGUF loads. Tokenize, detokenize and the vocab queries
    /// work; Prefill and Decode throw.
    /// </summary>
    public bool VocabOnly { get; init; }
}
