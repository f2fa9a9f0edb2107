namespace LongCtx.Reference;

/// <summary>One candidate as llama.cpp's samplers leave it (<c>llama_token_data</c>).</summary>
public readonly record struct LlamaCandidate(int Id, float Logit, float P);

/// <summary>The candidate list after <see cref="LlamaSamplerChain.Apply"/>: what is left, in order, whether llama.cpp marked it sorted, and the selected index (-1 = none).</summary>
public sealed record LlamaSamplerResult(LlamaCandidate[] Candidates, bool Sorted, long Selected);

/// <summary>
/// llama.cpp's samplers as an oracle (<c>llama_sampler_chain</c> and the <c>llama_sampler_init_*</c>
/// constructors), applied to candidate lists given by the test. Not thread-safe.
/// </summary>
public sealed unsafe class LlamaSamplerChain : IDisposable
{
    private IntPtr _chain;

    /// <summary>An empty chain; add samplers with the fluent methods, in order.</summary>
    public LlamaSamplerChain()
    {
        LlamaRuntime.EnsureInitialized();
        _chain = LlamaNative.llama_sampler_chain_init(new LlamaSamplerChainParams { NoPerf = 1 });
    }

    ~LlamaSamplerChain() => Free();

    /// <summary>Adds <c>llama_sampler_init_greedy()</c>.</summary>
    public LlamaSamplerChain Greedy() => Add(LlamaNative.llama_sampler_init_greedy());

    /// <summary>Adds <c>llama_sampler_init_dist(seed)</c>.</summary>
    public LlamaSamplerChain Dist(uint seed) => Add(LlamaNative.llama_sampler_init_dist(seed));

    /// <summary>Adds <c>llama_sampler_init_top_k(k)</c>.</summary>
    public LlamaSamplerChain TopK(int k) => Add(LlamaNative.llama_sampler_init_top_k(k));

    /// <summary>Adds <c>llama_sampler_init_top_p(p, min_keep)</c>.</summary>
    public LlamaSamplerChain TopP(float p, int minKeep = 0) => Add(LlamaNative.llama_sampler_init_top_p(p, (nuint)minKeep));

    /// <summary>Adds <c>llama_sampler_init_min_p(p, min_keep)</c>.</summary>
    public LlamaSamplerChain MinP(float p, int minKeep = 0) => Add(LlamaNative.llama_sampler_init_min_p(p, (nuint)minKeep));

    /// <summary>Adds <c>llama_sampler_init_temp(t)</c>.</summary>
    public LlamaSamplerChain Temp(float t) => Add(LlamaNative.llama_sampler_init_temp(t));

    /// <summary>Adds <c>llama_sampler_init_temp_ext(t, delta, exponent)</c>, the temperature step of llama.cpp's common sampler.</summary>
    public LlamaSamplerChain TempExt(float t, float delta = 0f, float exponent = 1f) => Add(LlamaNative.llama_sampler_init_temp_ext(t, delta, exponent));

    /// <summary>Adds <c>llama_sampler_init_penalties</c>.</summary>
    public LlamaSamplerChain Penalties(int vocabSize, int lastN, float repeat, float frequency, float presence) =>
        Add(LlamaNative.llama_sampler_init_penalties(vocabSize, lastN, repeat, frequency, presence));

    /// <summary>Adds <c>llama_sampler_init_logit_bias</c>.</summary>
    public LlamaSamplerChain LogitBias(int vocabSize, IReadOnlyList<(int Token, float Bias)> biases)
    {
        var native = new LlamaLogitBias[biases.Count];
        for (int i = 0; i < native.Length; i++)
        {
            native[i] = new LlamaLogitBias { Token = biases[i].Token, Bias = biases[i].Bias };
        }
        fixed (LlamaLogitBias* p = native)
        {
            return Add(LlamaNative.llama_sampler_init_logit_bias(vocabSize, native.Length, p));
        }
    }

    /// <summary>Runs the chain over a copy of <paramref name="candidates"/> (llama_sampler_apply).</summary>
    public LlamaSamplerResult Apply(IReadOnlyList<LlamaCandidate> candidates, bool sorted = false)
    {
        var data = new LlamaTokenData[candidates.Count];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = new LlamaTokenData { Id = candidates[i].Id, Logit = candidates[i].Logit, P = candidates[i].P };
        }
        fixed (LlamaTokenData* p = data)
        {
            var array = new LlamaTokenDataArray { Data = p, Size = (nuint)data.Length, Selected = -1, Sorted = sorted ? (byte)1 : (byte)0 };
            LlamaNative.llama_sampler_apply(Chain, &array);
            var result = new LlamaCandidate[(int)array.Size];
            for (int i = 0; i < result.Length; i++)
            {
                result[i] = new LlamaCandidate(array.Data[i].Id, array.Data[i].Logit, array.Data[i].P);
            }
            return new LlamaSamplerResult(result, array.Sorted != 0, array.Selected);
        }
    }

    /// <summary>Runs the chain over a row of logits (candidate i = token i, as llama_sampler_sample) and returns the selected token; does not accept it.</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        var candidates = new LlamaCandidate[logits.Length];
        for (int i = 0; i < logits.Length; i++)
        {
            candidates[i] = new LlamaCandidate(i, logits[i], 0f);
        }
        LlamaSamplerResult result = Apply(candidates);
        if (result.Selected < 0 || result.Selected >= result.Candidates.Length)
        {
            throw new InvalidOperationException($"llama.cpp's chain selected index {result.Selected} of {result.Candidates.Length}");
        }
        return result.Candidates[result.Selected].Id;
    }

    /// <summary>llama_sampler_accept on the chain.</summary>
    public void Accept(int token) => LlamaNative.llama_sampler_accept(Chain, token);

    /// <summary>llama_sampler_reset on the chain.</summary>
    public void Reset() => LlamaNative.llama_sampler_reset(Chain);

    /// <summary>Frees the chain and its samplers.</summary>
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private IntPtr Chain => _chain != IntPtr.Zero ? _chain : throw new ObjectDisposedException(nameof(LlamaSamplerChain));

    private LlamaSamplerChain Add(IntPtr sampler)
    {
        if (sampler == IntPtr.Zero)
        {
            throw new InvalidOperationException("llama.cpp returned no sampler");
        }
        LlamaNative.llama_sampler_chain_add(Chain, sampler);
        return this;
    }

    private void Free()
    {
        if (_chain != IntPtr.Zero)
        {
            LlamaNative.llama_sampler_free(_chain);
            _chain = IntPtr.Zero;
        }
    }
}
