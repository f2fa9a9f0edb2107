using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LongCtx.Train.Kernels;

/// <summary>Which code path the trainer's kernels take. Tests switch SIMD off to run the scalar twins.</summary>
internal static class Cpu
{
    /// <summary>AVX-512F with 512-bit vectors accelerated (else every kernel runs its scalar twin).</summary>
    public static bool Avx512 { get; } = Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>Use the SIMD paths (only where <see cref="Avx512"/>).</summary>
    public static bool Simd
    {
        get => s_simd && Avx512;
        set => s_simd = value;
    }

    private static bool s_simd = true;
}
