using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LongCtx.Attention;

/// <summary>
/// The two summation orders in which llama.cpp's AVX-512 CPU backend computes an F16 dot product
/// inside attention, so that our scores and outputs round exactly as its do:
/// <list type="bullet">
/// <item>one query token (decode): <c>ggml_vec_dot_f16</c>, four 16-lane FMA accumulators over
/// steps of 64, folded 0+2, 1+3, 0+1, then <c>_mm512_reduce_add_ps</c>; leftovers in double;</item>
/// <item>several query tokens (prefill): tinyBLAS (<c>llamafile_sgemm</c>), one 16-lane FMA
/// accumulator over the whole length, then <c>_mm512_reduce_add_ps</c>, when the length is a
/// multiple of 16 (otherwise it falls back to <c>ggml_vec_dot_f16</c>).</item>
/// </list>
/// Inputs are floats already rounded to F16. Used only where AVX-512 is present, as there.
/// </summary>
internal static class GgmlF16Dot
{
    /// <summary>Whether this CPU runs llama.cpp's AVX-512 build, whose orders these are.</summary>
    public static bool Available => Avx512F.IsSupported && Avx512DQ.IsSupported;

    /// <summary>The dot product as llama.cpp computes it for a batch of <paramref name="batched"/> tokens.</summary>
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y, bool batched) =>
        batched && x.Length % 16 == 0 ? TinyBlas(x, y) : VecDot(x, y);

    /// <summary>ggml_vec_dot_f16 (AVX-512F without FP16 arithmetic).</summary>
    public static float VecDot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        int n = x.Length, np = n & ~63;
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (int i = 0; i < np; i += 64)
        {
            s0 = Avx512F.FusedMultiplyAdd(Vector512.Create(x.Slice(i, 16)), Vector512.Create(y.Slice(i, 16)), s0);
            s1 = Avx512F.FusedMultiplyAdd(Vector512.Create(x.Slice(i + 16, 16)), Vector512.Create(y.Slice(i + 16, 16)), s1);
            s2 = Avx512F.FusedMultiplyAdd(Vector512.Create(x.Slice(i + 32, 16)), Vector512.Create(y.Slice(i + 32, 16)), s2);
            s3 = Avx512F.FusedMultiplyAdd(Vector512.Create(x.Slice(i + 48, 16)), Vector512.Create(y.Slice(i + 48, 16)), s3);
        }
        double sum = Tensors.GgmlExp.ReduceAdd((s0 + s2) + (s1 + s3));
        for (int i = np; i < n; i++)
        {
            sum += x[i] * y[i];
        }
        return (float)sum;
    }

    /// <summary>tinyBLAS's F16 kernel: one accumulator, 16 lanes at a time.</summary>
    public static float TinyBlas(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        Vector512<float> acc = default;
        for (int l = 0; l < x.Length; l += 16)
        {
            acc = Avx512F.FusedMultiplyAdd(Vector512.Create(x.Slice(l, 16)), Vector512.Create(y.Slice(l, 16)), acc);
        }
        return Tensors.GgmlExp.ReduceAdd(acc);
    }
}
