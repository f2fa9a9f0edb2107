using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LongCtx.Tensors;

/// <summary>
/// ggml's vectorized expf (adapted by ggml from Arm's optimized routines; max error 1.45 ulp) and
/// the SiLU and softmax built on it, operation for operation as ggml-cpu's vec.h does them on
/// AVX-512 and on AVX2+FMA, so the float results are those llama.cpp computes on the same CPU.
/// Elsewhere, and for tails, the plain libm <c>expf</c> as ggml's scalar code.
/// </summary>
public static class GgmlExp
{
    /// <summary>The widest form this CPU runs: 16 (AVX-512F+DQ, as ggml requires), 8 (AVX2+FMA) or 1.</summary>
    internal static readonly int BestWidth = Avx512F.IsSupported && Avx512DQ.IsSupported ? 16
        : Avx2.IsSupported && Fma.IsSupported ? 8 : 1;

    /// <summary>In place: gate[i] = silu(gate[i]) · up[i] (ggml_vec_swiglu_f32).</summary>
    public static void SwiGlu(Span<float> gate, ReadOnlySpan<float> up) => SwiGlu(gate, up, BestWidth);

    /// <summary>SwiGLU in the form of a given vector width (tests compare each with ggml's build of it).</summary>
    internal static void SwiGlu(Span<float> gate, ReadOnlySpan<float> up, int width)
    {
        int i = 0;
        if (width == 16)
        {
            for (; i + 16 <= gate.Length; i += 16)
            {
                Vector512<float> x = Vector512.Create<float>(gate.Slice(i, 16));
                Vector512<float> e = Exp(Vector512<float>.Zero - x);
                (x / (Vector512<float>.One + e) * Vector512.Create<float>(up.Slice(i, 16))).CopyTo(gate.Slice(i, 16));
            }
        }
        else if (width == 8)
        {
            for (; i + 8 <= gate.Length; i += 8)
            {
                Vector256<float> x = Vector256.Create<float>(gate.Slice(i, 8));
                Vector256<float> e = Exp(Vector256<float>.Zero - x);
                (x / (Vector256<float>.One + e) * Vector256.Create<float>(up.Slice(i, 8))).CopyTo(gate.Slice(i, 8));
            }
        }
        for (; i < gate.Length; i++)
        {
            float x = gate[i];
            gate[i] = x / (1f + MathF.Exp(-x)) * up[i];
        }
    }

    /// <summary>
    /// y[i] = exp(x[i] - max) and their sum, as ggml_vec_soft_max_f32: each vector's lanes are
    /// summed in float, the partial sums in double.
    /// </summary>
    public static double ExpMinusMax(Span<float> x, float max) => ExpMinusMax(x, max, BestWidth);

    /// <summary>The softmax exponentials in the form of a given vector width.</summary>
    internal static double ExpMinusMax(Span<float> x, float max, int width)
    {
        int i = 0;
        double sum = 0;
        if (width == 16)
        {
            var m = Vector512.Create(max);
            for (; i + 16 <= x.Length; i += 16)
            {
                Vector512<float> v = Exp(Vector512.Create<float>(x.Slice(i, 16)) - m);
                v.CopyTo(x.Slice(i, 16));
                sum += ReduceAdd(v);
            }
        }
        else if (width == 8)
        {
            var m = Vector256.Create(max);
            for (; i + 8 <= x.Length; i += 8)
            {
                Vector256<float> v = Exp(Vector256.Create<float>(x.Slice(i, 8)) - m);
                v.CopyTo(x.Slice(i, 8));
                // _mm256 halves, then movehl, then movehdup, as vec.cpp's AVX2 branch
                Vector128<float> h = v.GetLower() + v.GetUpper();
                h += Sse.MoveHighToLow(h, h);
                sum += h.ToScalar() + Sse3.MoveHighAndDuplicate(h).ToScalar();
            }
        }
        for (; i < x.Length; i++)
        {
            float v = MathF.Exp(x[i] - max);
            x[i] = v;
            sum += v;
        }
        return sum;
    }

    /// <summary>_mm512_reduce_add_ps: halves of 256, then of 128, then pairs (2,3,0,1), then (1,0,3,2).</summary>
    internal static float ReduceAdd(Vector512<float> v)
    {
        Vector256<float> a = v.GetLower() + v.GetUpper();
        Vector128<float> b = a.GetLower() + a.GetUpper();
        Vector128<float> c = b + Vector128.Shuffle(b, Vector128.Create(2, 3, 0, 1));
        Vector128<float> d = c + Vector128.Shuffle(c, Vector128.Create(1, 0, 3, 2));
        return d.ToScalar();
    }

    /// <summary>A float from its bits: C# has no hexadecimal float literals, and the constants must be exact.</summary>
    private static float F(uint bits) => BitConverter.UInt32BitsToSingle(bits);

    /// <summary>ggml_v_expf, AVX-512 form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        Vector512<float> r = Vector512.Create(F(0x4B400000) /* 0x1.8p23 */);
        Vector512<float> z = Avx512F.FusedMultiplyAdd(x, Vector512.Create(F(0x3FB8AA3B) /* 0x1.715476p+0 */), r);
        Vector512<float> n = z - r;
        Vector512<float> b = Avx512F.FusedMultiplyAddNegated(n, Vector512.Create(F(0x35BFBE8E) /* 0x1.7f7d1cp-20 */),
            Avx512F.FusedMultiplyAddNegated(n, Vector512.Create(F(0x3F317200) /* 0x1.62e4p-1 */), x));
        Vector512<float> u = b * b;
        Vector512<float> j = Avx512F.FusedMultiplyAdd(
            Avx512F.FusedMultiplyAdd(
                Avx512F.FusedMultiplyAdd(Vector512.Create(F(0x3C072010) /* 0x1.0e4020p-7 */), b, Vector512.Create(F(0x3D2B9F17) /* 0x1.573e2ep-5 */)),
                u,
                Avx512F.FusedMultiplyAdd(Vector512.Create(F(0x3E2AAF33) /* 0x1.555e66p-3 */), b, Vector512.Create(F(0x3EFFFEDB) /* 0x1.fffdb6p-2 */))),
            u,
            Avx512F.FusedMultiplyAdd(Vector512.Create(F(0x3F7FFFF6) /* 0x1.ffffecp-1 */), b, Vector512<float>.One));
        Vector512<float> res = Avx512F.Scale(j, n);
        Vector512<float> d = Vector512.GreaterThan(Vector512.Abs(n), Vector512.Create(192f));
        if (d == Vector512<float>.Zero)
        {
            return res;
        }
        // _mm512_mask_blend_ps(k, a, b) takes b where k is set: 0 below the range, +inf above it
        Vector512<float> alt = Vector512.ConditionalSelect(Vector512.LessThanOrEqual(n, Vector512<float>.Zero),
            Vector512<float>.Zero, Vector512.Create(float.PositiveInfinity));
        return Vector512.ConditionalSelect(d, alt, res);
    }

    /// <summary>ggml_v_expf, AVX2+FMA form.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        Vector256<float> r = Vector256.Create(F(0x4B400000) /* 0x1.8p23 */);
        Vector256<float> z = Fma.MultiplyAdd(x, Vector256.Create(F(0x3FB8AA3B) /* 0x1.715476p+0 */), r);
        Vector256<float> n = z - r;
        Vector256<float> b = Fma.MultiplyAddNegated(n, Vector256.Create(F(0x35BFBE8E) /* 0x1.7f7d1cp-20 */),
            Fma.MultiplyAddNegated(n, Vector256.Create(F(0x3F317200) /* 0x1.62e4p-1 */), x));
        Vector256<int> e = Avx2.ShiftLeftLogical(z.AsInt32(), 23);
        Vector256<float> k = (e + Vector256<float>.One.AsInt32()).AsSingle();
        Vector256<float> c = Vector256.GreaterThan(Vector256.Abs(n), Vector256.Create(126f));
        Vector256<float> u = b * b;
        Vector256<float> j = Fma.MultiplyAdd(
            Fma.MultiplyAdd(
                Fma.MultiplyAdd(Vector256.Create(F(0x3C072010) /* 0x1.0e4020p-7 */), b, Vector256.Create(F(0x3D2B9F17) /* 0x1.573e2ep-5 */)),
                u,
                Fma.MultiplyAdd(Vector256.Create(F(0x3E2AAF33) /* 0x1.555e66p-3 */), b, Vector256.Create(F(0x3EFFFEDB) /* 0x1.fffdb6p-2 */))),
            u,
            Vector256.Create(F(0x3F7FFFF6) /* 0x1.ffffecp-1 */) * b);
        if (c == Vector256<float>.Zero)
        {
            return Fma.MultiplyAdd(j, k, k);
        }
        Vector256<int> g = Vector256.LessThanOrEqual(n, Vector256<float>.Zero).AsInt32() & Vector256.Create(unchecked((int)0x82000000u));
        Vector256<float> s1 = (g + Vector256.Create(0x7f000000)).AsSingle();
        Vector256<float> s2 = (e - g).AsSingle();
        Vector256<float> d = Vector256.GreaterThan(Vector256.Abs(n), Vector256.Create(192f));
        return Vector256.ConditionalSelect(d, s1 * s1,
            Vector256.ConditionalSelect(c, Fma.MultiplyAdd(s2, j, s2) * s1, Fma.MultiplyAdd(k, j, k)));
    }
}
