using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LongCtx.Tensors;

/// <summary>
/// Q8_0 weights × Q8_0 activations. Per 32-block an exact int32 dot scaled by d_w·d_a; the x86
/// kernel keeps ggml's order (ggml_vec_dot_q8_0_q8_0, and tinyBLAS for batches, which is the same):
/// eight lanes of four-product sums, one FMA chain per lane over the blocks, then hsum_float_8.
/// </summary>
internal static unsafe class MatMulQ8_0
{
    /// <summary>The reference: plain loops, float accumulation per block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scalar(in MatMulJob j, int r0, int r1)
    {
        int nb = j.Cols / 32;
        for (int t = 0; t < j.A.N; t++)
        {
            byte* a = j.A.Row(t);
            for (int r = r0; r < r1; r++)
            {
                byte* w = j.Row(r);
                float sum = 0;
                for (int b = 0; b < nb; b++)
                {
                    byte* wb = w + b * BlockLayout.Q8_0Bytes, ab = a + b * BlockLayout.Q8_0Bytes;
                    int sumi = 0;
                    for (int i = 0; i < 32; i++) sumi += (sbyte)wb[2 + i] * (sbyte)ab[2 + i];
                    sum += sumi * (Fp16.At(wb) * Fp16.At(ab));
                }
                j.Y[t * j.Rows + r] = sum;
            }
        }
    }

    /// <summary>Cross-platform vectors: int16 products widened and summed per block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Portable(in MatMulJob j, int r0, int r1)
    {
        int nb = j.Cols / 32;
        for (int t = 0; t < j.A.N; t++)
        {
            byte* a = j.A.Row(t);
            float* da = j.A.Scales + t * nb;
            for (int r = r0; r < r1; r++)
            {
                byte* w = j.Row(r);
                Vector128<float> acc = Vector128<float>.Zero;
                for (int b = 0; b < nb; b++)
                {
                    byte* wb = w + b * BlockLayout.Q8_0Bytes, ab = a + b * BlockLayout.Q8_0Bytes;
                    Vector128<int> s = Dot16(Vector128.Load((sbyte*)wb + 2), Vector128.Load((sbyte*)ab + 2))
                                     + Dot16(Vector128.Load((sbyte*)wb + 18), Vector128.Load((sbyte*)ab + 18));
                    acc += Vector128.ConvertToSingle(s) * Vector128.Create(Fp16.At(wb) * da[b]);
                }
                j.Y[t * j.Rows + r] = Vector128.Sum(acc);
            }
        }
    }

    /// <summary>Four int32 sums of 16 int8 products (int16 products cannot overflow: |w|,|a| ≤ 128).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> Dot16(Vector128<sbyte> w, Vector128<sbyte> a)
    {
        (Vector128<short> wl, Vector128<short> wh) = Vector128.Widen(w);
        (Vector128<short> al, Vector128<short> ah) = Vector128.Widen(a);
        (Vector128<int> p0, Vector128<int> p1) = Vector128.Widen(wl * al);
        (Vector128<int> p2, Vector128<int> p3) = Vector128.Widen(wh * ah);
        return (p0 + p1) + (p2 + p3);
    }

    /// <summary>
    /// ggml's x86 order, four weight rows by four tokens per register tile. With AVX-VNNI the lane
    /// sums come from one vpdpbusd of the weights offset to unsigned (w + 128) with the signed
    /// activations, started from −128·Σa (precomputed per lane): the same exact integers as ggml's
    /// sign trick, in one instruction instead of three. With AVX-512 two tokens share one 16-lane
    /// accumulator (lanes 0–7 and 8–15), so each conversion, scale and FMA does two chains at once;
    /// the tile is four rows by two tokens (four by four spilled accumulators: the JIT keeps them in
    /// the registers the VNNI instruction also needs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void X86(in MatMulJob j, int r0, int r1)
    {
        int n = j.A.N, nb = j.Cols / 32;
        bool wide = n >= 4 && Avx512F.IsSupported && AvxVnni.IsSupported;
        // A row quad's weights, repacked once per token panel: flipped quants, then the four scales.
        byte* packed = stackalloc byte[wide ? nb * PackedBlock + 64 : 1];
        packed = (byte*)(((nint)packed + 63) & ~(nint)63);
        if (n < 4)
        {
            // Four far-apart sequential streams per thread (the row range in quarters, one row of each
            // at a time): 4 FMA chains in flight and prefetchers that see plain streams. Adjacent rows
            // interleaved ran at a third of that; one row at a time at three quarters.
            int q = (r1 - r0) / 4;
            for (int t = 0; t < n; t++)
            {
                for (int r = r0; r < r0 + q; r++) Dot4(j, r, q, t);
                for (int r = r0 + 4 * q; r < r1; r++) j.Y[t * j.Rows + r] = Dot1(j, r, t);
            }
            return;
        }
        // Token panels small enough for L2, so that a quad's weights are reused from L1 across them.
        int panel = Math.Max(4, (int)Math.Min(n, (256 * 1024 / j.A.RowBytes) & ~3L));
        for (int t0 = 0; t0 < n; t0 += panel)
        {
            int t1 = Math.Min(n, t0 + panel);
            int r = r0;
            for (; r + 4 <= r1; r += 4)
            {
                int t = t0;
                if (wide && t + 4 <= t1)
                {
                    Pack4(j, r, packed);
                    for (; t + 2 <= t1; t += 2) Tile4x2Wide(j, r, t, packed);
                }
                for (; t + 4 <= t1; t += 4) Tile4x4(j, r, t);
                for (; t < t1; t++) Tile4x1(j, r, t);
            }
            for (; r < r1; r++)
            {
                for (int t = t0; t < t1; t++) j.Y[t * j.Rows + r] = Dot1(j, r, t);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x2Wide(in MatMulJob j, int r, int t, byte* packed)
    {
        int nb = j.Cols / 32;
        long ab = j.A.RowBytes;
        byte* a = j.A.Row(t) + 2;
        float* da = j.A.Scales + t * nb;
        int* ls = j.A.LaneBias + t * nb * 8;
        int lStride = nb * 8;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int b = 0; b < nb; b++, packed += PackedBlock, a += BlockLayout.Q8_0Bytes, da++, ls += 8)
        {
            float* dw = (float*)(packed + 128);
            Vector256<sbyte> a0 = Vector256.Load((sbyte*)a), a1 = Vector256.Load((sbyte*)(a + ab));
            Vector512<float> s01 = Vector256.Create(da[0]).ToVector512Unsafe().WithUpper(Vector256.Create(da[nb]));
            c0 = Step2(c0, s01, dw, packed, a0, ls, a1, ls + lStride);
            c1 = Step2(c1, s01, dw + 1, packed + 32, a0, ls, a1, ls + lStride);
            c2 = Step2(c2, s01, dw + 2, packed + 64, a0, ls, a1, ls + lStride);
            c3 = Step2(c3, s01, dw + 3, packed + 96, a0, ls, a1, ls + lStride);
        }
        int rows = j.Rows;
        float* y = j.Y + t * rows + r;
        Store4(y, c0.GetLower(), c1.GetLower(), c2.GetLower(), c3.GetLower());
        Store4(y + rows, c0.GetUpper(), c1.GetUpper(), c2.GetUpper(), c3.GetUpper());
    }

    private const int PackedBlock = 4 * 32 + 4 * 4;

    /// <summary>Rows r..r+3, block by block: the four rows' quants + 128, then their scales as float (read row after row).</summary>
    private static void Pack4(in MatMulJob j, int r, byte* dst)
    {
        int nb = j.Cols / 32;
        float* table = Fp16.Table;
        for (int k = 0; k < 4; k++)
        {
            byte* w = j.Row(r + k), d = dst;
            for (int b = 0; b < nb; b++, w += BlockLayout.Q8_0Bytes, d += PackedBlock)
            {
                LoadW(w).Store(d + 32 * k);
                ((float*)(d + 128))[k] = table[*(ushort*)w];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step2(Vector512<float> acc, Vector512<float> da, float* dw, byte* w,
        Vector256<sbyte> a0, int* i0, Vector256<sbyte> a1, int* i1)
    {
        // VEX vpdpbusd only reaches ymm0–15: the lane-sum starts come from memory and the weights are
        // reloaded per use (L1 hits), leaving the low registers to the two activations.
        Vector256<byte> wv = Vector256.Load(w);
        Vector512<int> lanes = AvxVnni.MultiplyWideningAndAdd(Vector256.Load(i0), wv, a0).ToVector512Unsafe()
            .WithUpper(AvxVnni.MultiplyWideningAndAdd(Vector256.Load(i1), wv, a1));
        return Avx512F.FusedMultiplyAdd(da * Vector512.Create(*dw), Avx512F.ConvertToVector512Single(lanes), acc);
    }

    // A JIT constant, not a static readonly field: kernels compiled straight to optimized code
    // (AggressiveOptimization) would otherwise test the class initializer inside their loops.
    private static Vector256<byte> Flip => Vector256.Create((byte)0x80);

    /// <summary>Exact lane sums Σ4 w·a, as ggml's mul_sum_i8_pairs_float before its conversion.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Lanes(Vector256<byte> wFlipped, Vector256<sbyte> a, Vector256<int> bias)
    {
        if (AvxVnni.IsSupported)
        {
            return AvxVnni.MultiplyWideningAndAdd(bias, wFlipped, a);
        }
        Vector256<sbyte> w = (wFlipped ^ Flip).AsSByte();
        Vector256<short> dot = Avx2Abs(w, a);
        return Avx2.MultiplyAddAdjacent(dot, Vector256.Create((short)1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Avx2Abs(Vector256<sbyte> w, Vector256<sbyte> a) =>
        Avx2.MultiplyAddAdjacent(Avx2.Abs(w), Avx2.Sign(a, w));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> LoadW(byte* block) => Vector256.Load(block + 2) ^ Flip;

    /// <summary>The start of the VNNI lane sums: −128·Σ4 a (precomputed), undoing the +128 offset of the weights.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Bias(int* laneBias) => AvxVnni.IsSupported ? Vector256.Load(laneBias) : default;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4(in MatMulJob j, int r, int q, int t)
    {
        int nb = j.Cols / 32;
        long step = q * j.RowBytes;
        byte* w = j.Row(r), a = j.A.Row(t);
        float* da = j.A.Scales + t * nb;
        int* ls = j.A.LaneBias + t * nb * 8;
        float* table = Fp16.Table;
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int b = 0; b < nb; b++, w += BlockLayout.Q8_0Bytes, a += BlockLayout.Q8_0Bytes)
        {
            Vector256<sbyte> av = Vector256.Load((sbyte*)a + 2);
            Vector256<int> bias = Bias(ls + b * 8);
            Vector256<float> s = Vector256.Create(da[b]);
            c0 = Fma.MultiplyAdd(s * Vector256.Create(table[*(ushort*)w]), Avx.ConvertToVector256Single(Lanes(LoadW(w), av, bias)), c0);
            c1 = Fma.MultiplyAdd(s * Vector256.Create(table[*(ushort*)(w + step)]), Avx.ConvertToVector256Single(Lanes(LoadW(w + step), av, bias)), c1);
            c2 = Fma.MultiplyAdd(s * Vector256.Create(table[*(ushort*)(w + 2 * step)]), Avx.ConvertToVector256Single(Lanes(LoadW(w + 2 * step), av, bias)), c2);
            c3 = Fma.MultiplyAdd(s * Vector256.Create(table[*(ushort*)(w + 3 * step)]), Avx.ConvertToVector256Single(Lanes(LoadW(w + 3 * step), av, bias)), c3);
        }
        float* y = j.Y + t * j.Rows + r;
        y[0] = Hsum.Float8(c0);
        y[q] = Hsum.Float8(c1);
        y[2 * q] = Hsum.Float8(c2);
        y[3 * q] = Hsum.Float8(c3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot1(in MatMulJob j, int r, int t)
    {
        int nb = j.Cols / 32;
        byte* w = j.Row(r), a = j.A.Row(t);
        float* da = j.A.Scales + t * nb;
        int* ls = j.A.LaneBias + t * nb * 8;
        Vector256<float> acc = Vector256<float>.Zero;
        for (int b = 0; b < nb; b++, w += BlockLayout.Q8_0Bytes, a += BlockLayout.Q8_0Bytes)
        {
            Vector256<int> s = Lanes(LoadW(w), Vector256.Load((sbyte*)a + 2), Bias(ls + b * 8));
            acc = Fma.MultiplyAdd(Vector256.Create(Fp16.At(w) * da[b]), Avx.ConvertToVector256Single(s), acc);
        }
        return Hsum.Float8(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Step(Vector256<float> acc, Vector256<float> dw, float* da, Vector256<int> lanes) =>
        Fma.MultiplyAdd(dw * Vector256.Create(*da), Avx.ConvertToVector256Single(lanes), acc);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x1(in MatMulJob j, int r, int t)
    {
        int nb = j.Cols / 32;
        long rb = j.RowBytes;
        byte* w = j.Row(r), a = j.A.Row(t);
        float* da = j.A.Scales + t * nb;
        int* ls = j.A.LaneBias + t * nb * 8;
        float* table = Fp16.Table;
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int b = 0; b < nb; b++, w += BlockLayout.Q8_0Bytes, a += BlockLayout.Q8_0Bytes)
        {
            Vector256<sbyte> av = Vector256.Load((sbyte*)a + 2);
            Vector256<int> bias = Bias(ls + b * 8);
            c0 = Step(c0, Vector256.Create(table[*(ushort*)(w)]), da + b, Lanes(LoadW(w), av, bias));
            c1 = Step(c1, Vector256.Create(table[*(ushort*)(w + rb)]), da + b, Lanes(LoadW(w + rb), av, bias));
            c2 = Step(c2, Vector256.Create(table[*(ushort*)(w + 2 * rb)]), da + b, Lanes(LoadW(w + 2 * rb), av, bias));
            c3 = Step(c3, Vector256.Create(table[*(ushort*)(w + 3 * rb)]), da + b, Lanes(LoadW(w + 3 * rb), av, bias));
        }
        float* y = j.Y + t * j.Rows + r;
        y[0] = Hsum.Float8(c0);
        y[1] = Hsum.Float8(c1);
        y[2] = Hsum.Float8(c2);
        y[3] = Hsum.Float8(c3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x4(in MatMulJob j, int r, int t)
    {
        int nb = j.Cols / 32;
        long rb = j.RowBytes, ab = j.A.RowBytes;
        byte* w = j.Row(r), a = j.A.Row(t);
        float* da = j.A.Scales + t * nb;
        int* ls = j.A.LaneBias + t * nb * 8;
        int sStride = nb, lStride = nb * 8;
        float* table = Fp16.Table;
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector256<float> c30 = default, c31 = default, c32 = default, c33 = default;
        for (int b = 0; b < nb; b++, w += BlockLayout.Q8_0Bytes, a += BlockLayout.Q8_0Bytes, da++, ls += 8)
        {
            Vector256<byte> w0 = LoadW(w), w1 = LoadW(w + rb), w2 = LoadW(w + 2 * rb), w3 = LoadW(w + 3 * rb);
            // The weight scales stay table entries, broadcast straight from memory into each product.
            Vector256<float> d0 = Vector256.Create(table[*(ushort*)w]), d1 = Vector256.Create(table[*(ushort*)(w + rb)]);
            Vector256<float> d2 = Vector256.Create(table[*(ushort*)(w + 2 * rb)]), d3 = Vector256.Create(table[*(ushort*)(w + 3 * rb)]);

            Vector256<sbyte> a0 = Vector256.Load((sbyte*)a + 2);
            Vector256<int> i0 = Bias(ls);
            Vector256<float> s0 = Vector256.Create(*da);
            c00 = Fma.MultiplyAdd(s0 * d0, Avx.ConvertToVector256Single(Lanes(w0, a0, i0)), c00);
            c10 = Fma.MultiplyAdd(s0 * d1, Avx.ConvertToVector256Single(Lanes(w1, a0, i0)), c10);
            c20 = Fma.MultiplyAdd(s0 * d2, Avx.ConvertToVector256Single(Lanes(w2, a0, i0)), c20);
            c30 = Fma.MultiplyAdd(s0 * d3, Avx.ConvertToVector256Single(Lanes(w3, a0, i0)), c30);

            Vector256<sbyte> a1 = Vector256.Load((sbyte*)(a + ab) + 2);
            Vector256<int> i1 = Bias(ls + lStride);
            Vector256<float> s1 = Vector256.Create(da[sStride]);
            c01 = Fma.MultiplyAdd(s1 * d0, Avx.ConvertToVector256Single(Lanes(w0, a1, i1)), c01);
            c11 = Fma.MultiplyAdd(s1 * d1, Avx.ConvertToVector256Single(Lanes(w1, a1, i1)), c11);
            c21 = Fma.MultiplyAdd(s1 * d2, Avx.ConvertToVector256Single(Lanes(w2, a1, i1)), c21);
            c31 = Fma.MultiplyAdd(s1 * d3, Avx.ConvertToVector256Single(Lanes(w3, a1, i1)), c31);

            Vector256<sbyte> a2 = Vector256.Load((sbyte*)(a + 2 * ab) + 2);
            Vector256<int> i2 = Bias(ls + 2 * lStride);
            Vector256<float> s2 = Vector256.Create(da[2 * sStride]);
            c02 = Fma.MultiplyAdd(s2 * d0, Avx.ConvertToVector256Single(Lanes(w0, a2, i2)), c02);
            c12 = Fma.MultiplyAdd(s2 * d1, Avx.ConvertToVector256Single(Lanes(w1, a2, i2)), c12);
            c22 = Fma.MultiplyAdd(s2 * d2, Avx.ConvertToVector256Single(Lanes(w2, a2, i2)), c22);
            c32 = Fma.MultiplyAdd(s2 * d3, Avx.ConvertToVector256Single(Lanes(w3, a2, i2)), c32);

            Vector256<sbyte> a3 = Vector256.Load((sbyte*)(a + 3 * ab) + 2);
            Vector256<int> i3 = Bias(ls + 3 * lStride);
            Vector256<float> s3 = Vector256.Create(da[3 * sStride]);
            c03 = Fma.MultiplyAdd(s3 * d0, Avx.ConvertToVector256Single(Lanes(w0, a3, i3)), c03);
            c13 = Fma.MultiplyAdd(s3 * d1, Avx.ConvertToVector256Single(Lanes(w1, a3, i3)), c13);
            c23 = Fma.MultiplyAdd(s3 * d2, Avx.ConvertToVector256Single(Lanes(w2, a3, i3)), c23);
            c33 = Fma.MultiplyAdd(s3 * d3, Avx.ConvertToVector256Single(Lanes(w3, a3, i3)), c33);
        }
        int rows = j.Rows;
        float* y = j.Y + t * rows + r;
        Store4(y, c00, c10, c20, c30);
        Store4(y + rows, c01, c11, c21, c31);
        Store4(y + 2 * rows, c02, c12, c22, c32);
        Store4(y + 3 * rows, c03, c13, c23, c33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(float* y, Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d)
    {
        y[0] = Hsum.Float8(a);
        y[1] = Hsum.Float8(b);
        y[2] = Hsum.Float8(c);
        y[3] = Hsum.Float8(d);
    }
}
