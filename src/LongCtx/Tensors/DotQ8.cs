using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LongCtx.Tensors;

/// <summary>
/// Dot products of Q8_0 and Q4_0 weight rows with Q8_0 activations (ggml_vec_dot_q8_0_q8_0,
/// ggml_vec_dot_q4_0_q8_0): per 32-block an exact int32 dot scaled by d_w·d_a. Each AVX2 path has
/// a scalar twin that the tests compare it with.
/// </summary>
internal static unsafe class DotQ8
{
    /// <summary>Σ over blocks of d_w·d_a·Σ w_i·a_i for <paramref name="n"/> elements (a multiple of 32).</summary>
    public static float Q8_0(byte* w, byte* a, int n) => Avx2.IsSupported ? Q8_0Avx2(w, a, n) : Q8_0Scalar(w, a, n);

    /// <summary>As <see cref="Q8_0"/> for Q4_0 weights (nibble − 8).</summary>
    public static float Q4_0(byte* w, byte* a, int n) => Avx2.IsSupported ? Q4_0Avx2(w, a, n) : Q4_0Scalar(w, a, n);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Q8_0Scalar(byte* w, byte* a, int n)
    {
        float sum = 0;
        for (int b = 0; b < n / 32; b++, w += BlockLayout.Q8_0Bytes, a += BlockLayout.Q8_0Bytes)
        {
            int sumi = 0;
            for (int j = 0; j < 32; j++) sumi += (sbyte)w[2 + j] * (sbyte)a[2 + j];
            sum += sumi * (BlockLayout.Half(w) * BlockLayout.Half(a));
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Q4_0Scalar(byte* w, byte* a, int n)
    {
        float sum = 0;
        for (int b = 0; b < n / 32; b++, w += BlockLayout.Q4_0Bytes, a += BlockLayout.Q8_0Bytes)
        {
            int sumi = 0;
            for (int j = 0; j < 16; j++)
            {
                sumi += ((w[2 + j] & 0xF) - 8) * (sbyte)a[2 + j];
                sumi += ((w[2 + j] >> 4) - 8) * (sbyte)a[2 + 16 + j];
            }
            sum += sumi * (BlockLayout.Half(w) * BlockLayout.Half(a));
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Q8_0Avx2(byte* w, byte* a, int n)
    {
        Vector256<float> acc = Vector256<float>.Zero;
        for (int b = 0; b < n / 32; b++, w += BlockLayout.Q8_0Bytes, a += BlockLayout.Q8_0Bytes)
        {
            Vector256<sbyte> x = Vector256.Load((sbyte*)(w + 2));
            Vector256<sbyte> y = Vector256.Load((sbyte*)(a + 2));
            Vector256<float> d = Vector256.Create(BlockLayout.Half(w) * BlockLayout.Half(a));
            acc = Fma.MultiplyAdd(d, Avx.ConvertToVector256Single(MulSumI8Pairs(x, y)), acc);
        }
        return Vector256.Sum(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Q4_0Avx2(byte* w, byte* a, int n)
    {
        Vector256<float> acc = Vector256<float>.Zero;
        Vector128<byte> low4 = Vector128.Create((byte)0x0F);
        for (int b = 0; b < n / 32; b++, w += BlockLayout.Q4_0Bytes, a += BlockLayout.Q8_0Bytes)
        {
            Vector128<byte> q = Vector128.Load(w + 2);
            Vector256<byte> nib = Vector256.Create(q & low4, (q.AsUInt16() >> 4).AsByte() & low4);
            Vector256<sbyte> x = (nib - Vector256.Create((byte)8)).AsSByte();
            Vector256<sbyte> y = Vector256.Load((sbyte*)(a + 2));
            Vector256<float> d = Vector256.Create(BlockLayout.Half(w) * BlockLayout.Half(a));
            acc = Fma.MultiplyAdd(d, Avx.ConvertToVector256Single(MulSumI8Pairs(x, y)), acc);
        }
        return Vector256.Sum(acc);
    }

    /// <summary>Eight int32 sums of four x·y products each (signed × signed via abs/sign, as ggml's mul_sum_i8_pairs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> MulSumI8Pairs(Vector256<sbyte> x, Vector256<sbyte> y)
    {
        Vector256<byte> ax = Avx2.Abs(x);
        Vector256<sbyte> sy = Avx2.Sign(y, x);
        if (AvxVnni.IsSupported)
        {
            return AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, ax, sy);
        }
        Vector256<short> dot = Avx2.MultiplyAddAdjacent(ax, sy);
        return Avx2.MultiplyAddAdjacent(dot, Vector256.Create((short)1));
    }
}
