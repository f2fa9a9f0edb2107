using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LongCtx.Tensors;

/// <summary>
/// ggml's horizontal sums (arch/x86/quants.c), in their exact pairing, so that a dot product's
/// last additions round as llama.cpp's do.
/// </summary>
internal static class Hsum
{
    /// <summary>hsum_float_8: the 128-bit halves, then movehl, then movehdup: ((x0+x4)+(x2+x6)) + ((x1+x5)+(x3+x7)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Float8(Vector256<float> x)
    {
        Vector128<float> r = x.GetUpper() + x.GetLower();
        r += Sse.MoveHighToLow(r, r);
        return Sse.AddScalar(r, Sse3.MoveHighAndDuplicate(r)).ToScalar();
    }

    /// <summary>The 4-lane tail of ggml's Q4_K dot: movehl, then movehdup: (x0+x2) + (x1+x3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Float4(Vector128<float> r)
    {
        r += Sse.MoveHighToLow(r, r);
        return Sse.AddScalar(r, Sse3.MoveHighAndDuplicate(r)).ToScalar();
    }

    /// <summary>Plain-C# form of <see cref="Float8"/> for the portable kernels (same pairing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Float8Portable(Vector256<float> x)
    {
        Vector128<float> r = x.GetUpper() + x.GetLower();
        return (r[0] + r[2]) + (r[1] + r[3]);
    }
}
