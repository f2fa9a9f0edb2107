using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LongCtx.Tensors;

/// <summary>Which family of kernels the matrix products run.</summary>
public enum KernelLevel
{
    /// <summary>Plain loops: the readable reference every other level is tested against.</summary>
    Scalar,
    /// <summary>Cross-platform <see cref="Vector128{T}"/>/<see cref="Vector256{T}"/> code (ARM, or x86 without AVX2).</summary>
    Portable,
    /// <summary>
    /// x86 AVX2 + FMA (with AVX-VNNI <c>vpdpbusd</c> where present): ggml's x86 summation orders,
    /// bit-exact with llama.cpp's AVX2 CPU backend.
    /// </summary>
    Avx2,
    /// <summary>
    /// <see cref="Avx2"/> plus AVX-512 (F, BW, DQ, VL): 512-bit integer and float work in the batched
    /// kernels, and the AVX-512 orders of ggml's F16/F32 dot products, bit-exact with llama.cpp's
    /// AVX-512 CPU backends (skylakex … zen4).
    /// </summary>
    Avx512,
}

/// <summary>The kernel level chosen once at start-up from the CPU, overridable for tests and benchmarks.</summary>
public static class Kernels
{
    /// <summary>Environment variable that caps the level: scalar, portable, avx2 or avx512.</summary>
    public const string EnvironmentVariable = "LONGCTX_KERNELS";

    /// <summary>The best level this CPU supports.</summary>
    public static KernelLevel Best { get; } = Detect();

    /// <summary>The level the engine uses: <see cref="Best"/>, capped by <see cref="EnvironmentVariable"/>.</summary>
    public static KernelLevel Level { get; } = Cap(Best, Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>
    /// Runs the kernels' static initializers (the fp16 table) when the assembly loads: kernels are
    /// compiled straight to optimized code, and a class still uninitialized at that moment would
    /// cost an initializer test inside their loops, with every vector register spilled around it.
    /// </summary>
#pragma warning disable CA2255 // the point is to run before any kernel is compiled
    [System.Runtime.CompilerServices.ModuleInitializer]
#pragma warning restore CA2255
    internal static unsafe void Initialize() => _ = Fp16.Table;

    /// <summary>Whether this CPU can run <paramref name="level"/>.</summary>
    public static bool IsSupported(KernelLevel level) => level <= Best;

    private static KernelLevel Detect()
    {
        if (Avx2.IsSupported && Fma.IsSupported && Bmi2.IsSupported)
        {
            return Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported
                ? KernelLevel.Avx512 : KernelLevel.Avx2;
        }
        return Vector128.IsHardwareAccelerated ? KernelLevel.Portable : KernelLevel.Scalar;
    }

    private static KernelLevel Cap(KernelLevel best, string? text)
    {
        if (string.IsNullOrEmpty(text) || !Enum.TryParse(text, ignoreCase: true, out KernelLevel wanted))
        {
            return best;
        }
        return wanted < best ? wanted : best;
    }
}
