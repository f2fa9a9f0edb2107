using System.Runtime.InteropServices;

namespace LongCtx.Reference;

/// <summary><c>llama_token_data</c>: 12 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LlamaTokenData
{
    public int Id;
    public float Logit;
    public float P;
}

/// <summary><c>llama_token_data_array</c>: 32 bytes on x64.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct LlamaTokenDataArray
{
    public LlamaTokenData* Data;  //  0
    public nuint Size;            //  8
    public long Selected;         // 16 index into Data, -1 = none
    public byte Sorted;           // 24 (7 bytes padding after)
}

/// <summary><c>llama_logit_bias</c>: 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LlamaLogitBias
{
    public int Token;
    public float Bias;
}

/// <summary><c>llama_sampler_chain_params</c>: one C bool.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LlamaSamplerChainParams
{
    public byte NoPerf;
}

internal static unsafe partial class LlamaNative
{
    [LibraryImport(OracleLibraries.Llama)]
    public static partial IntPtr llama_sampler_chain_init(LlamaSamplerChainParams parameters);

    /// <summary>The chain takes ownership of <paramref name="sampler"/>.</summary>
    [LibraryImport(OracleLibraries.Llama)]
    public static partial void llama_sampler_chain_add(IntPtr chain, IntPtr sampler);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial void llama_sampler_apply(IntPtr sampler, LlamaTokenDataArray* candidates);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial void llama_sampler_accept(IntPtr sampler, int token);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial void llama_sampler_reset(IntPtr sampler);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial void llama_sampler_free(IntPtr sampler);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial IntPtr llama_sampler_init_greedy();

    [LibraryImport(OracleLibraries.Llama)]
    public static partial IntPtr llama_sampler_init_dist(uint seed);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial IntPtr llama_sampler_init_top_k(int k);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial IntPtr llama_sampler_init_top_p(float p, nuint minKeep);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial IntPtr llama_sampler_init_min_p(float p, nuint minKeep);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial IntPtr llama_sampler_init_temp(float t);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial IntPtr llama_sampler_init_temp_ext(float t, float delta, float exponent);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial IntPtr llama_sampler_init_penalties(int nVocab, int penaltyLastN, float penaltyRepeat, float penaltyFreq, float penaltyPresent);

    [LibraryImport(OracleLibraries.Llama)]
    public static partial IntPtr llama_sampler_init_logit_bias(int nVocab, int nLogitBias, LlamaLogitBias* logitBias);
}
