using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LongCtx.Tensors;

/// <summary>
/// 32-weight blocks (Q8_0, Q4_0, Q5_0: <typeparamref name="TBlock"/>) × Q8_0 activations. Per block an
/// exact int32 dot scaled by d_w·d_a; the x86 kernel keeps the order of ggml's vec_dot (and of
/// tinyBLAS for batches, which is the same): eight lanes of four-product sums, one FMA chain per
/// lane over the blocks, then hsum_float_8. (Q4_0 weights that llama.cpp repacks sum in another
/// order: MatMulInterleaved.)
/// </summary>
[SkipLocalsInit] // the panel buffer is written before it is read
internal static unsafe class MatMulQ32<TBlock> where TBlock : struct, IQ32Block
{
    /// <summary>The reference: plain loops, float accumulation per block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scalar(in MatMulJob j, int r0, int r1)
    {
        int nb = j.Cols / 32, bytes = TBlock.Bytes;
        for (int t = 0; t < j.A.N; t++)
        {
            byte* a = j.A.Row(t);
            for (int r = r0; r < r1; r++)
            {
                byte* w = j.Row(r);
                float sum = 0;
                for (int b = 0; b < nb; b++)
                {
                    byte* wb = w + b * bytes, ab = a + b * BlockLayout.Q8_0Bytes;
                    int sumi = 0;
                    for (int i = 0; i < 32; i++) sumi += TBlock.Quant(wb, i) * (sbyte)ab[2 + i];
                    sum += sumi * (Fp16.At(wb) * Fp16.At(ab));
                }
                j.Y[t * j.Rows + r] = sum;
            }
        }
    }

    /// <summary>Cross-platform vectors: 16-bit products of the unsigned quants, the offset taken off per block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Portable(in MatMulJob j, int r0, int r1)
    {
        int nb = j.Cols / 32, bytes = TBlock.Bytes, shift = TBlock.BiasShift;
        for (int t = 0; t < j.A.N; t++)
        {
            byte* a = j.A.Row(t);
            float* da = j.A.Scales + t * nb;
            int* bs = j.A.BlockSums + t * nb;
            for (int r = r0; r < r1; r++)
            {
                byte* w = j.Row(r);
                Vector128<float> acc = Vector128<float>.Zero;
                for (int b = 0; b < nb; b++)
                {
                    byte* wb = w + b * bytes, ab = a + b * BlockLayout.Q8_0Bytes;
                    Vector256<byte> u = TBlock.Load(wb);
                    Vector128<int> s = Dot16(u.GetLower(), Vector128.Load((sbyte*)ab + 2)) + Dot16(u.GetUpper(), Vector128.Load((sbyte*)ab + 18));
                    int sumi = Vector128.Sum(s) - ((128 >> shift) * bs[b]);
                    acc += Vector128.CreateScalar(sumi * (Fp16.At(wb) * da[b]));
                }
                j.Y[t * j.Rows + r] = acc.ToScalar();
            }
        }
    }

    /// <summary>Four int32 sums of 16 unsigned × signed byte products (int16 products cannot overflow).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Dot16(Vector128<byte> u, Vector128<sbyte> a)
    {
        (Vector128<ushort> ul, Vector128<ushort> uh) = Vector128.Widen(u);
        (Vector128<short> al, Vector128<short> ah) = Vector128.Widen(a);
        (Vector128<int> p0, Vector128<int> p1) = Vector128.Widen(ul.AsInt16() * al);
        (Vector128<int> p2, Vector128<int> p3) = Vector128.Widen(uh.AsInt16() * ah);
        return (p0 + p1) + (p2 + p3);
    }

    /// <summary>
    /// ggml's x86 order. With AVX-VNNI the lane sums come from one vpdpbusd of the unsigned quants
    /// with the signed activations, started from −offset·Σa (precomputed per lane): the same exact
    /// integers as ggml's sign trick, in one instruction instead of three. One token: four
    /// far-apart row streams per thread. Batches with AVX-512: tiles of four rows by two tokens,
    /// the two tokens sharing one 16-lane accumulator (lanes 0–7 and 8–15) so that each
    /// conversion, scale and FMA does two chains at once (4×4 tiles spilled: the JIT keeps the
    /// accumulators in the registers the VEX-encoded VNNI instruction also needs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void X86(in MatMulJob j, int r0, int r1)
    {
        int n = j.A.N, nb = j.Cols / 32;
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
        bool wide = Avx512F.IsSupported && AvxVnni.IsSupported;
        // A row quad's weights, repacked once per token panel: unsigned quants, then the four scales.
        byte* packed = stackalloc byte[wide ? nb * PackedBlock + 64 : 1];
        packed = (byte*)(((nint)packed + 63) & ~(nint)63);
        // Token panels small enough for L2, so that a quad's weights are reused from L1 across them.
        int panel = Math.Max(4, (int)Math.Min(n, (256 * 1024 / j.A.RowBytes) & ~3L));
        for (int t0 = 0; t0 < n; t0 += panel)
        {
            int t1 = Math.Min(n, t0 + panel);
            int r = r0;
            for (; r + 4 <= r1; r += 4)
            {
                int t = t0;
                if (wide)
                {
                    Pack4(j, r, packed);
                    for (; t + 2 <= t1; t += 2) Tile4x2Wide(j, r, t, packed);
                }
                for (; t + 2 <= t1; t += 2) Tile4x2(j, r, t);
                for (; t < t1; t++) Tile4x1(j, r, t);
            }
            for (; r < r1; r++)
            {
                for (int t = t0; t < t1; t++) j.Y[t * j.Rows + r] = Dot1(j, r, t);
            }
        }
    }

    private const int PackedBlock = 4 * 32 + 4 * 4;

    /// <summary>Rows r..r+3, block by block: the four rows' unsigned quants, then their scales as float (read row after row).</summary>
    private static void Pack4(in MatMulJob j, int r, byte* dst)
    {
        int nb = j.Cols / 32, bytes = TBlock.Bytes;
        float* table = Fp16.Table;
        for (int k = 0; k < 4; k++)
        {
            byte* w = j.Row(r + k), d = dst;
            for (int b = 0; b < nb; b++, w += bytes, d += PackedBlock)
            {
                TBlock.Load(w).Store(d + 32 * k);
                ((float*)(d + 128))[k] = table[*(ushort*)w];
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
            Vector256<int> i0 = Bias(ls), i1 = Bias(ls + lStride);
            Vector512<float> s01 = Vector256.Create(da[0]).ToVector512Unsafe().WithUpper(Vector256.Create(da[nb]));
            c0 = Step2(c0, s01, dw, packed, a0, i0, a1, i1);
            c1 = Step2(c1, s01, dw + 1, packed + 32, a0, i0, a1, i1);
            c2 = Step2(c2, s01, dw + 2, packed + 64, a0, i0, a1, i1);
            c3 = Step2(c3, s01, dw + 3, packed + 96, a0, i0, a1, i1);
        }
        int rows = j.Rows;
        float* y = j.Y + t * rows + r;
        Store4(y, c0.GetLower(), c1.GetLower(), c2.GetLower(), c3.GetLower());
        Store4(y + rows, c0.GetUpper(), c1.GetUpper(), c2.GetUpper(), c3.GetUpper());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step2(Vector512<float> acc, Vector512<float> da, float* dw, byte* w,
        Vector256<sbyte> a0, Vector256<int> i0, Vector256<sbyte> a1, Vector256<int> i1)
    {
        Vector256<byte> wv = Vector256.Load(w);
        Vector512<int> lanes = AvxVnni.MultiplyWideningAndAdd(i0, wv, a0).ToVector512Unsafe()
            .WithUpper(AvxVnni.MultiplyWideningAndAdd(i1, wv, a1));
        return Avx512F.FusedMultiplyAdd(da * Vector512.Create(*dw), Avx512F.ConvertToVector512Single(lanes), acc);
    }

    /// <summary>Exact lane sums Σ4 (u − offset)·a, as ggml's mul_sum_i8_pairs_float before its conversion.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Lanes(Vector256<byte> u, Vector256<sbyte> a, Vector256<int> bias)
    {
        if (AvxVnni.IsSupported)
        {
            return AvxVnni.MultiplyWideningAndAdd(bias, u, a);
        }
        if (TBlock.BiasShift == 0)
        {
            // Q8_0 without VNNI: u up to 255 would saturate vpmaddubsw; ggml's sign trick instead.
            Vector256<sbyte> w = (u ^ Vector256.Create((byte)0x80)).AsSByte();
            return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w), Avx2.Sign(a, w)), Vector256.Create((short)1));
        }
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, a), Vector256.Create((short)1)) + bias;
    }

    /// <summary>−offset·Σ4 a per lane, from the precomputed −128·Σ4 a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Bias(int* laneBias) =>
        AvxVnni.IsSupported || TBlock.BiasShift != 0 ? Vector256.ShiftRightArithmetic(Vector256.Load(laneBias), TBlock.BiasShift) : default;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4(in MatMulJob j, int r, int q, int t)
    {
        int nb = j.Cols / 32, bytes = TBlock.Bytes;
        long step = q * j.RowBytes;
        byte* w = j.Row(r), a = j.A.Row(t);
        float* da = j.A.Scales + t * nb;
        int* ls = j.A.LaneBias + t * nb * 8;
        float* table = Fp16.Table;
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int b = 0; b < nb; b++, w += bytes, a += BlockLayout.Q8_0Bytes)
        {
            Vector256<sbyte> av = Vector256.Load((sbyte*)a + 2);
            Vector256<int> bias = Bias(ls + b * 8);
            Vector256<float> s = Vector256.Create(da[b]);
            c0 = Fma.MultiplyAdd(s * Vector256.Create(table[*(ushort*)w]), Avx.ConvertToVector256Single(Lanes(TBlock.Load(w), av, bias)), c0);
            c1 = Fma.MultiplyAdd(s * Vector256.Create(table[*(ushort*)(w + step)]), Avx.ConvertToVector256Single(Lanes(TBlock.Load(w + step), av, bias)), c1);
            c2 = Fma.MultiplyAdd(s * Vector256.Create(table[*(ushort*)(w + 2 * step)]), Avx.ConvertToVector256Single(Lanes(TBlock.Load(w + 2 * step), av, bias)), c2);
            c3 = Fma.MultiplyAdd(s * Vector256.Create(table[*(ushort*)(w + 3 * step)]), Avx.ConvertToVector256Single(Lanes(TBlock.Load(w + 3 * step), av, bias)), c3);
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
        int nb = j.Cols / 32, bytes = TBlock.Bytes;
        byte* w = j.Row(r), a = j.A.Row(t);
        float* da = j.A.Scales + t * nb;
        int* ls = j.A.LaneBias + t * nb * 8;
        float* table = Fp16.Table;
        Vector256<float> acc = Vector256<float>.Zero;
        for (int b = 0; b < nb; b++, w += bytes, a += BlockLayout.Q8_0Bytes)
        {
            Vector256<int> s = Lanes(TBlock.Load(w), Vector256.Load((sbyte*)a + 2), Bias(ls + b * 8));
            acc = Fma.MultiplyAdd(Vector256.Create(table[*(ushort*)w] * da[b]), Avx.ConvertToVector256Single(s), acc);
        }
        return Hsum.Float8(acc);
    }

    /// <summary>
    /// Four rows by two tokens (batches on CPUs without the AVX-512 VNNI tile, e.g. zen4, whose
    /// AVX512_VNNI .NET does not expose): each weight block is loaded, unpacked and, for Q8_0, split
    /// into |w| and sign once for both tokens. Per (row, token) the same integers and the same
    /// FMA chain as <see cref="Tile4x1"/>, so the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x2(in MatMulJob j, int r, int t)
    {
        int nb = j.Cols / 32, bytes = TBlock.Bytes;
        long rb = j.RowBytes, ab = j.A.RowBytes;
        byte* w = j.Row(r), a = j.A.Row(t);
        float* da = j.A.Scales + t * nb;
        int* ls = j.A.LaneBias + t * nb * 8;
        int lStride = nb * 8;
        float* table = Fp16.Table;
        Vector256<float> c00 = default, c10 = default, c20 = default, c30 = default;
        Vector256<float> c01 = default, c11 = default, c21 = default, c31 = default;
        for (int b = 0; b < nb; b++, w += bytes, a += BlockLayout.Q8_0Bytes, ls += 8)
        {
            Vector256<sbyte> a0 = Vector256.Load((sbyte*)a + 2), a1 = Vector256.Load((sbyte*)(a + ab) + 2);
            Vector256<int> i0 = Bias(ls), i1 = Bias(ls + lStride);
            Vector256<float> s0 = Vector256.Create(da[b]), s1 = Vector256.Create(da[nb + b]);

            Vector256<byte> u = TBlock.Load(w);
            Vector256<sbyte> sw = Signed(u);
            Vector256<byte> aw = Avx2.Abs(sw);
            Vector256<float> d = Vector256.Create(table[*(ushort*)w]);
            c00 = Fma.MultiplyAdd(s0 * d, Avx.ConvertToVector256Single(Lanes(u, sw, aw, a0, i0)), c00);
            c01 = Fma.MultiplyAdd(s1 * d, Avx.ConvertToVector256Single(Lanes(u, sw, aw, a1, i1)), c01);

            u = TBlock.Load(w + rb);
            sw = Signed(u);
            aw = Avx2.Abs(sw);
            d = Vector256.Create(table[*(ushort*)(w + rb)]);
            c10 = Fma.MultiplyAdd(s0 * d, Avx.ConvertToVector256Single(Lanes(u, sw, aw, a0, i0)), c10);
            c11 = Fma.MultiplyAdd(s1 * d, Avx.ConvertToVector256Single(Lanes(u, sw, aw, a1, i1)), c11);

            u = TBlock.Load(w + 2 * rb);
            sw = Signed(u);
            aw = Avx2.Abs(sw);
            d = Vector256.Create(table[*(ushort*)(w + 2 * rb)]);
            c20 = Fma.MultiplyAdd(s0 * d, Avx.ConvertToVector256Single(Lanes(u, sw, aw, a0, i0)), c20);
            c21 = Fma.MultiplyAdd(s1 * d, Avx.ConvertToVector256Single(Lanes(u, sw, aw, a1, i1)), c21);

            u = TBlock.Load(w + 3 * rb);
            sw = Signed(u);
            aw = Avx2.Abs(sw);
            d = Vector256.Create(table[*(ushort*)(w + 3 * rb)]);
            c30 = Fma.MultiplyAdd(s0 * d, Avx.ConvertToVector256Single(Lanes(u, sw, aw, a0, i0)), c30);
            c31 = Fma.MultiplyAdd(s1 * d, Avx.ConvertToVector256Single(Lanes(u, sw, aw, a1, i1)), c31);
        }
        float* y = j.Y + t * j.Rows + r;
        Store4(y, c00, c10, c20, c30);
        Store4(y + j.Rows, c01, c11, c21, c31);
    }

    /// <summary>Q8_0 without VNNI: the signed weights of ggml's sign trick, shared by the tokens of a tile (unused, and dropped by the JIT, for the other types).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Signed(Vector256<byte> u) => (u ^ Vector256.Create((byte)0x80)).AsSByte();

    /// <summary><see cref="Lanes(Vector256{byte}, Vector256{sbyte}, Vector256{int})"/> with the signed weights and their magnitudes already split off.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Lanes(Vector256<byte> u, Vector256<sbyte> w, Vector256<byte> absW, Vector256<sbyte> a, Vector256<int> bias)
    {
        if (!AvxVnni.IsSupported && TBlock.BiasShift == 0)
        {
            return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(absW, Avx2.Sign(a, w)), Vector256.Create((short)1));
        }
        return Lanes(u, a, bias);
    }

    /// <summary>Four rows by one token (batches on CPUs without the AVX-512 tile), weights from L1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x1(in MatMulJob j, int r, int t)
    {
        int nb = j.Cols / 32, bytes = TBlock.Bytes;
        long rb = j.RowBytes;
        byte* w = j.Row(r), a = j.A.Row(t);
        float* da = j.A.Scales + t * nb;
        int* ls = j.A.LaneBias + t * nb * 8;
        float* table = Fp16.Table;
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int b = 0; b < nb; b++, w += bytes, a += BlockLayout.Q8_0Bytes)
        {
            Vector256<sbyte> av = Vector256.Load((sbyte*)a + 2);
            Vector256<int> bias = Bias(ls + b * 8);
            Vector256<float> s = Vector256.Create(da[b]);
            c0 = Fma.MultiplyAdd(s * Vector256.Create(table[*(ushort*)w]), Avx.ConvertToVector256Single(Lanes(TBlock.Load(w), av, bias)), c0);
            c1 = Fma.MultiplyAdd(s * Vector256.Create(table[*(ushort*)(w + rb)]), Avx.ConvertToVector256Single(Lanes(TBlock.Load(w + rb), av, bias)), c1);
            c2 = Fma.MultiplyAdd(s * Vector256.Create(table[*(ushort*)(w + 2 * rb)]), Avx.ConvertToVector256Single(Lanes(TBlock.Load(w + 2 * rb), av, bias)), c2);
            c3 = Fma.MultiplyAdd(s * Vector256.Create(table[*(ushort*)(w + 3 * rb)]), Avx.ConvertToVector256Single(Lanes(TBlock.Load(w + 3 * rb), av, bias)), c3);
        }
        Store4(j.Y + t * j.Rows + r, c0, c1, c2, c3);
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
