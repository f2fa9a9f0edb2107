using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LongCtx.Tensors;

/// <summary>
/// Q4_0 weights in the summation order of ggml's repacked x86 kernels (ggml_gemv/gemm_q4_0_8x8_q8_0,
/// arch/x86/repack.cpp), which llama.cpp uses for every Q4_0 matrix it repacks: per (row, token)
/// one scalar chain over the blocks, acc = fma(float(Σ32 w·a), d_w·d_a, acc), no horizontal sum
/// at the end. The weights stay in the file's layout; the whole-block integer sums are reduced
/// four or eight rows at a time.
/// </summary>
[SkipLocalsInit] // the panel buffer is written before it is read
internal static unsafe class MatMulInterleaved
{
    /// <summary>The x86 kernel (AVX2 + VNNI or AVX2 alone; AVX-512 for batches).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q4_0(in MatMulJob j, int r0, int r1)
    {
        int n = j.A.N, nb = j.Cols / 32;
        if (n < 4 || !Avx512F.IsSupported)
        {
            // Four far-apart row streams per thread, as MatMulQ32 for one token.
            int q = (r1 - r0) / 4;
            for (int t = 0; t < n; t++)
            {
                for (int r = r0; r < r0 + q; r++) Dot4(j, r, q, t);
                for (int r = r0 + 4 * q; r < r1; r++) j.Y[t * j.Rows + r] = Dot1(j, r, t);
            }
            return;
        }
        bool vnni = AvxVnni.IsSupported, bw = Avx512BW.IsSupported;
        byte* packed = stackalloc byte[nb * Packed16Block + 64];
        packed = (byte*)(((nint)packed + 63) & ~(nint)63);
        // Token panels of up to 768 KiB of activations (most of L2): each panel repacks the weights once.
        int panel = Math.Max(4, (int)Math.Min(n, (768 * 1024 / j.A.RowBytes) & ~3L));
        for (int t0 = 0; t0 < n; t0 += panel)
        {
            int t1 = Math.Min(n, t0 + panel);
            int r = r0;
            for (; bw && r + 16 <= r1; r += 16)
            {
                Pack8(j, r, packed, Packed16Block, 0);
                Pack8(j, r + 8, packed, Packed16Block, 32);
                int t = t0;
                for (; t + 4 <= t1; t += 4) Tile16x4(j, r, t, packed);
                for (; t < t1; t++) Tile16x1(j, r, t, packed);
            }
            for (; vnni && r + 8 <= r1; r += 8)
            {
                Pack8(j, r, packed, Packed8Block, 0);
                int t = t0;
                for (; t + 4 <= t1; t += 4) Tile8x4(j, r, t, packed);
                for (; t < t1; t++) Tile8x1(j, r, t, packed);
            }
            for (; r + 4 <= r1; r += 4)
            {
                Pack4(j, r, packed);
                int t = t0;
                for (; t + 2 <= t1; t += 2) Tile4x2(j, r, t, packed);
                for (; t < t1; t++) Dot4(j, r, 1, t);
            }
            for (; r < r1; r++)
            {
                for (int t = t0; t < t1; t++) j.Y[t * j.Rows + r] = Dot1(j, r, t);
            }
        }
    }

    private const int PackedBlock = 4 * 32 + 4 * 4;

    /// <summary>Σ over the 32 elements of (nibble − 8)·a, as eight lane sums (VNNI from −8·Σ4 a, or maddubs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Lanes(Vector256<byte> u, Vector256<sbyte> a, Vector256<int> bias) =>
        AvxVnni.IsSupported
            ? AvxVnni.MultiplyWideningAndAdd(bias, u, a)
            : Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, a), Vector256.Create((short)1)) + bias;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Bias(int* laneBias) => Vector256.ShiftRightArithmetic(Vector256.Load(laneBias), 4);

    /// <summary>The whole sums of four lane vectors, in lanes 0–3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Sum4(Vector256<int> p0, Vector256<int> p1, Vector256<int> p2, Vector256<int> p3)
    {
        Vector256<int> h = Avx2.HorizontalAdd(Avx2.HorizontalAdd(p0, p1), Avx2.HorizontalAdd(p2, p3));
        return h.GetLower() + h.GetUpper();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4(in MatMulJob j, int r, int q, int t)
    {
        int nb = j.Cols / 32;
        long step = q * j.RowBytes;
        byte* w = j.Row(r), a = j.A.Row(t);
        float* da = j.A.Scales + t * nb;
        int* ls = j.A.LaneBias + t * nb * 8;
        float* table = Fp16.Table;
        Vector128<float> acc = Vector128<float>.Zero;
        for (int b = 0; b < nb; b++, w += BlockLayout.Q4_0Bytes, a += BlockLayout.Q8_0Bytes)
        {
            Vector256<sbyte> av = Vector256.Load((sbyte*)a + 2);
            Vector256<int> bias = Bias(ls + b * 8);
            Vector128<int> sums = Sum4(Lanes(Q4_0Block.Load(w), av, bias), Lanes(Q4_0Block.Load(w + step), av, bias),
                Lanes(Q4_0Block.Load(w + 2 * step), av, bias), Lanes(Q4_0Block.Load(w + 3 * step), av, bias));
            Vector128<float> dw = Vector128.Create(table[*(ushort*)w], table[*(ushort*)(w + step)], table[*(ushort*)(w + 2 * step)], table[*(ushort*)(w + 3 * step)]);
            acc = Fma.MultiplyAdd(Vector128.ConvertToSingle(sums), dw * Vector128.Create(da[b]), acc);
        }
        float* y = j.Y + t * j.Rows + r;
        y[0] = acc[0];
        y[q] = acc[1];
        y[2 * q] = acc[2];
        y[3 * q] = acc[3];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot1(in MatMulJob j, int r, int t)
    {
        int nb = j.Cols / 32;
        byte* w = j.Row(r), a = j.A.Row(t);
        float* da = j.A.Scales + t * nb;
        int* ls = j.A.LaneBias + t * nb * 8;
        float* table = Fp16.Table;
        float acc = 0;
        for (int b = 0; b < nb; b++, w += BlockLayout.Q4_0Bytes, a += BlockLayout.Q8_0Bytes)
        {
            int sum = Vector256.Sum(Lanes(Q4_0Block.Load(w), Vector256.Load((sbyte*)a + 2), Bias(ls + b * 8)));
            acc = MathF.FusedMultiplyAdd(sum, table[*(ushort*)w] * da[b], acc);
        }
        return acc;
    }

    /// <summary>Rows r..r+3, block by block: their nibbles as bytes, then their scales as float.</summary>
    private static void Pack4(in MatMulJob j, int r, byte* dst)
    {
        int nb = j.Cols / 32;
        float* table = Fp16.Table;
        for (int k = 0; k < 4; k++)
        {
            byte* w = j.Row(r + k), d = dst;
            for (int b = 0; b < nb; b++, w += BlockLayout.Q4_0Bytes, d += PackedBlock)
            {
                Q4_0Block.Load(w).Store(d + 32 * k);
                ((float*)(d + 128))[k] = table[*(ushort*)w];
            }
        }
    }

    private const int Packed8Block = 8 * 32 + 8 * 4;
    private const int Packed16Block = 8 * 64 + 16 * 4;

    /// <summary>Sixteen rows by four tokens, one zmm lane per row (AVX-512BW: vpmaddubsw, int16 sums of eight, vpmaddwd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile16x4(in MatMulJob j, int r, int t, byte* packed)
    {
        int nb = j.Cols / 32;
        long ab = j.A.RowBytes;
        byte* a = j.A.Row(t) + 2;
        float* da = j.A.Scales + t * nb;
        int* bs = j.A.BlockSums + t * nb;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int b = 0; b < nb; b++, packed += Packed16Block, a += BlockLayout.Q8_0Bytes, da++, bs++)
        {
            var w = new W16(packed);
            Vector512<float> dw = Vector512.Load((float*)(packed + 512));
            c0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(w.Rows(a, bs[0])), dw * Vector512.Create(da[0]), c0);
            c1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(w.Rows(a + ab, bs[nb])), dw * Vector512.Create(da[nb]), c1);
            c2 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(w.Rows(a + 2 * ab, bs[2 * nb])), dw * Vector512.Create(da[2 * nb]), c2);
            c3 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(w.Rows(a + 3 * ab, bs[3 * nb])), dw * Vector512.Create(da[3 * nb]), c3);
        }
        float* y = j.Y + t * j.Rows + r;
        c0.Store(y);
        c1.Store(y + j.Rows);
        c2.Store(y + 2 * j.Rows);
        c3.Store(y + 3 * j.Rows);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile16x1(in MatMulJob j, int r, int t, byte* packed)
    {
        int nb = j.Cols / 32;
        byte* a = j.A.Row(t) + 2;
        float* da = j.A.Scales + t * nb;
        int* bs = j.A.BlockSums + t * nb;
        Vector512<float> c = default;
        for (int b = 0; b < nb; b++, packed += Packed16Block, a += BlockLayout.Q8_0Bytes)
        {
            c = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(new W16(packed).Rows(a, bs[b])), Vector512.Load((float*)(packed + 512)) * Vector512.Create(da[b]), c);
        }
        c.Store(j.Y + t * j.Rows + r);
    }

    /// <summary>One block of sixteen transposed rows (vector l: nibbles 4l..4l+3 of each row).</summary>
    private readonly struct W16(byte* w)
    {
        private readonly Vector512<byte> _0 = Vector512.Load(w), _1 = Vector512.Load(w + 64), _2 = Vector512.Load(w + 128), _3 = Vector512.Load(w + 192);
        private readonly Vector512<byte> _4 = Vector512.Load(w + 256), _5 = Vector512.Load(w + 320), _6 = Vector512.Load(w + 384), _7 = Vector512.Load(w + 448);

        /// <summary>
        /// The sixteen rows' whole-block sums with one token's block: nibble·a pairs by vpmaddubsw
        /// (at most 15·127·2), eight of them summed in int16 (at most 30,720: exact), widened by
        /// vpmaddwd, then −8·Σa.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<int> Rows(byte* a, int blockSum)
        {
            int* d = (int*)a;
            Vector512<short> p0 = Avx512BW.MultiplyAddAdjacent(_0, Vector512.Create(d[0]).AsSByte()) + Avx512BW.MultiplyAddAdjacent(_1, Vector512.Create(d[1]).AsSByte());
            Vector512<short> p1 = Avx512BW.MultiplyAddAdjacent(_2, Vector512.Create(d[2]).AsSByte()) + Avx512BW.MultiplyAddAdjacent(_3, Vector512.Create(d[3]).AsSByte());
            Vector512<short> p2 = Avx512BW.MultiplyAddAdjacent(_4, Vector512.Create(d[4]).AsSByte()) + Avx512BW.MultiplyAddAdjacent(_5, Vector512.Create(d[5]).AsSByte());
            Vector512<short> p3 = Avx512BW.MultiplyAddAdjacent(_6, Vector512.Create(d[6]).AsSByte()) + Avx512BW.MultiplyAddAdjacent(_7, Vector512.Create(d[7]).AsSByte());
            return Avx512BW.MultiplyAddAdjacent((p0 + p1) + (p2 + p3), Vector512<short>.One) + Vector512.Create(-8 * blockSum);
        }
    }

    /// <summary>
    /// Rows r..r+7 transposed block by block, as ggml's repack does: vector l holds the four
    /// nibbles (as bytes) l of each row, so that one vpdpbusd against a broadcast activation dword
    /// adds to all eight rows' whole-block sums at once; then the eight scales.
    /// </summary>
    private static void Pack8(in MatMulJob j, int r, byte* dst, int blockStride, int offset)
    {
        int nb = j.Cols / 32, vstride = blockStride == Packed16Block ? 64 : 32;
        long rb = j.RowBytes;
        float* table = Fp16.Table;
        byte* w = j.Row(r);
        for (int b = 0; b < nb; b++, w += BlockLayout.Q4_0Bytes, dst += blockStride)
        {
            // 8×8 dword transpose: row k's dword l goes to vector l, lane k
            Vector256<int> r0 = Q4_0Block.Load(w).AsInt32(), r1 = Q4_0Block.Load(w + rb).AsInt32();
            Vector256<int> r2 = Q4_0Block.Load(w + 2 * rb).AsInt32(), r3 = Q4_0Block.Load(w + 3 * rb).AsInt32();
            Vector256<int> r4 = Q4_0Block.Load(w + 4 * rb).AsInt32(), r5 = Q4_0Block.Load(w + 5 * rb).AsInt32();
            Vector256<int> r6 = Q4_0Block.Load(w + 6 * rb).AsInt32(), r7 = Q4_0Block.Load(w + 7 * rb).AsInt32();
            Vector256<int> t0 = Avx2.UnpackLow(r0, r1), t1 = Avx2.UnpackHigh(r0, r1), t2 = Avx2.UnpackLow(r2, r3), t3 = Avx2.UnpackHigh(r2, r3);
            Vector256<int> t4 = Avx2.UnpackLow(r4, r5), t5 = Avx2.UnpackHigh(r4, r5), t6 = Avx2.UnpackLow(r6, r7), t7 = Avx2.UnpackHigh(r6, r7);
            Vector256<long> u0 = Avx2.UnpackLow(t0.AsInt64(), t2.AsInt64()), u1 = Avx2.UnpackHigh(t0.AsInt64(), t2.AsInt64());
            Vector256<long> u2 = Avx2.UnpackLow(t1.AsInt64(), t3.AsInt64()), u3 = Avx2.UnpackHigh(t1.AsInt64(), t3.AsInt64());
            Vector256<long> u4 = Avx2.UnpackLow(t4.AsInt64(), t6.AsInt64()), u5 = Avx2.UnpackHigh(t4.AsInt64(), t6.AsInt64());
            Vector256<long> u6 = Avx2.UnpackLow(t5.AsInt64(), t7.AsInt64()), u7 = Avx2.UnpackHigh(t5.AsInt64(), t7.AsInt64());
            byte* o = dst + offset;
            Avx2.Permute2x128(u0, u4, 0x20).Store((long*)o);
            Avx2.Permute2x128(u1, u5, 0x20).Store((long*)(o + vstride));
            Avx2.Permute2x128(u2, u6, 0x20).Store((long*)(o + 2 * vstride));
            Avx2.Permute2x128(u3, u7, 0x20).Store((long*)(o + 3 * vstride));
            Avx2.Permute2x128(u0, u4, 0x31).Store((long*)(o + 4 * vstride));
            Avx2.Permute2x128(u1, u5, 0x31).Store((long*)(o + 5 * vstride));
            Avx2.Permute2x128(u2, u6, 0x31).Store((long*)(o + 6 * vstride));
            Avx2.Permute2x128(u3, u7, 0x31).Store((long*)(o + 7 * vstride));
            float* d = (float*)(dst + 8 * vstride) + offset / 4;
            for (int k = 0; k < 8; k++) d[k] = table[*(ushort*)(w + k * rb)];
        }
    }

    /// <summary>Eight rows by four tokens, one lane per row: no reduction, one FMA chain per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile8x4(in MatMulJob j, int r, int t, byte* packed)
    {
        int nb = j.Cols / 32;
        long ab = j.A.RowBytes;
        byte* a = j.A.Row(t) + 2;
        float* da = j.A.Scales + t * nb;
        int* bs = j.A.BlockSums + t * nb;
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int b = 0; b < nb; b++, packed += Packed8Block, a += BlockLayout.Q8_0Bytes, da++, bs++)
        {
            var w = new W8(packed);
            Vector256<float> dw = Vector256.Load((float*)(packed + 256));
            c0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(w.Rows(a, bs[0])), dw * Vector256.Create(da[0]), c0);
            c1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(w.Rows(a + ab, bs[nb])), dw * Vector256.Create(da[nb]), c1);
            c2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(w.Rows(a + 2 * ab, bs[2 * nb])), dw * Vector256.Create(da[2 * nb]), c2);
            c3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(w.Rows(a + 3 * ab, bs[3 * nb])), dw * Vector256.Create(da[3 * nb]), c3);
        }
        float* y = j.Y + t * j.Rows + r;
        c0.Store(y);
        c1.Store(y + j.Rows);
        c2.Store(y + 2 * j.Rows);
        c3.Store(y + 3 * j.Rows);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile8x1(in MatMulJob j, int r, int t, byte* packed)
    {
        int nb = j.Cols / 32;
        byte* a = j.A.Row(t) + 2;
        float* da = j.A.Scales + t * nb;
        int* bs = j.A.BlockSums + t * nb;
        Vector256<float> c = default;
        for (int b = 0; b < nb; b++, packed += Packed8Block, a += BlockLayout.Q8_0Bytes)
        {
            c = Fma.MultiplyAdd(Avx.ConvertToVector256Single(new W8(packed).Rows(a, bs[b])), Vector256.Load((float*)(packed + 256)) * Vector256.Create(da[b]), c);
        }
        c.Store(j.Y + t * j.Rows + r);
    }

    /// <summary>One block of eight transposed rows, held in registers across tokens.</summary>
    private readonly struct W8(byte* w)
    {
        private readonly Vector256<byte> _0 = Vector256.Load(w), _1 = Vector256.Load(w + 32), _2 = Vector256.Load(w + 64), _3 = Vector256.Load(w + 96);
        private readonly Vector256<byte> _4 = Vector256.Load(w + 128), _5 = Vector256.Load(w + 160), _6 = Vector256.Load(w + 192), _7 = Vector256.Load(w + 224);

        /// <summary>The eight rows' whole-block sums Σ (nibble − 8)·a with one token's block: −8·Σa, then eight vpdpbusd.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> Rows(byte* a, int blockSum)
        {
            int* d = (int*)a;
            Vector256<int> s = Vector256.Create(-8 * blockSum);
            s = AvxVnni.MultiplyWideningAndAdd(s, _0, Vector256.Create(d[0]).AsSByte());
            s = AvxVnni.MultiplyWideningAndAdd(s, _1, Vector256.Create(d[1]).AsSByte());
            s = AvxVnni.MultiplyWideningAndAdd(s, _2, Vector256.Create(d[2]).AsSByte());
            s = AvxVnni.MultiplyWideningAndAdd(s, _3, Vector256.Create(d[3]).AsSByte());
            s = AvxVnni.MultiplyWideningAndAdd(s, _4, Vector256.Create(d[4]).AsSByte());
            s = AvxVnni.MultiplyWideningAndAdd(s, _5, Vector256.Create(d[5]).AsSByte());
            s = AvxVnni.MultiplyWideningAndAdd(s, _6, Vector256.Create(d[6]).AsSByte());
            return AvxVnni.MultiplyWideningAndAdd(s, _7, Vector256.Create(d[7]).AsSByte());
        }
    }

    /// <summary>Four rows by two tokens: the eight whole-block sums reduced into one vector of eight chains.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x2(in MatMulJob j, int r, int t, byte* packed)
    {
        int nb = j.Cols / 32;
        long ab = j.A.RowBytes;
        byte* a = j.A.Row(t) + 2;
        float* da = j.A.Scales + t * nb;
        int* ls = j.A.LaneBias + t * nb * 8;
        int lStride = nb * 8;
        Vector256<float> acc = Vector256<float>.Zero; // lanes: rows 0–3 of token t, then of token t+1
        for (int b = 0; b < nb; b++, packed += PackedBlock, a += BlockLayout.Q8_0Bytes, da++, ls += 8)
        {
            Vector256<sbyte> a0 = Vector256.Load((sbyte*)a), a1 = Vector256.Load((sbyte*)(a + ab));
            Vector256<int> i0 = Bias(ls), i1 = Bias(ls + lStride);
            Vector256<byte> w0 = Vector256.Load(packed), w1 = Vector256.Load(packed + 32), w2 = Vector256.Load(packed + 64), w3 = Vector256.Load(packed + 96);
            Vector128<int> s0 = Sum4(Lanes(w0, a0, i0), Lanes(w1, a0, i0), Lanes(w2, a0, i0), Lanes(w3, a0, i0));
            Vector128<int> s1 = Sum4(Lanes(w0, a1, i1), Lanes(w1, a1, i1), Lanes(w2, a1, i1), Lanes(w3, a1, i1));
            Vector128<float> dw = Vector128.Load((float*)(packed + 128));
            Vector256<float> scale = Vector256.Create(dw * Vector128.Create(da[0]), dw * Vector128.Create(da[nb]));
            acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Vector256.Create(s0, s1)), scale, acc);
        }
        int rows = j.Rows;
        float* y = j.Y + t * rows + r;
        acc.GetLower().Store(y);
        acc.GetUpper().Store(y + rows);
    }
}
