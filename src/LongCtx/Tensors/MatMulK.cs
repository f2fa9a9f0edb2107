using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LongCtx.Tensors;

/// <summary>
/// One 256-weight K-quant super-block dotted with a Q8_K block, added to a (row, token) pair's
/// accumulators exactly as ggml's x86 kernel does it (the integer parts with ggml's own
/// instruction sequence, the float parts in its order), so that <see cref="Finish"/> gives
/// llama.cpp's result bit for bit.
/// </summary>
internal unsafe interface IKBlock
{
    /// <summary>Bytes per super-block.</summary>
    static abstract int Bytes { get; }
    /// <summary>Adds super-block <paramref name="w"/> · <paramref name="a"/>.</summary>
    static abstract void Step(byte* w, byte* a, float* table, ref KAcc acc);
    /// <summary>The dot product from the accumulators.</summary>
    static abstract float Finish(in KAcc acc);
}

/// <summary>The accumulators of one (row, token) pair: eight lanes, four lanes of mins, a scalar.</summary>
internal struct KAcc
{
    public Vector256<float> Lanes;
    public Vector128<float> Mins;
    public float Scalar;
}

/// <summary>ggml_vec_dot_q6_K_q8_K (AVX2): the ±32 offset folded in through 32·Σ sc·bsum per lane pair.</summary>
internal unsafe struct Q6_KBlock : IKBlock
{
    public static int Bytes => BlockLayout.Q6_KBytes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Step(byte* w, byte* a, float* table, ref KAcc acc)
    {
        float d = *(float*)a * table[*(ushort*)(w + BlockLayout.Q6_KD)];
        byte* ql = w, qh = w + BlockLayout.Q6_KQh;
        sbyte* q8 = (sbyte*)(a + BlockLayout.Q8_KQs);
        Vector128<sbyte> scales = Vector128.Load((sbyte*)(w + BlockLayout.Q6_KScales));
        Vector256<short> scales16 = Avx2.ConvertToVector256Int16(scales);
        Vector256<int> q8sclsub = Avx2.MultiplyAddAdjacent(Vector256.Load((short*)(a + BlockLayout.Q8_KBsums)), scales16) << 5;
        Vector256<byte> m15 = Vector256.Create((byte)15), m3 = Vector256.Create((byte)3);
        Vector256<int> sumi = Vector256<int>.Zero;
        for (int j = 0; j < 2; j++)
        {
            Vector256<byte> bits1 = Vector256.Load(ql + 64 * j), bits2 = Vector256.Load(ql + 64 * j + 32), bitsH = Vector256.Load(qh + 32 * j);
            Vector256<byte> h0 = ((bitsH & m3).AsUInt16() << 4).AsByte();
            Vector256<byte> h1 = ((bitsH & Vector256.Create((byte)12)).AsUInt16() << 2).AsByte();
            Vector256<byte> h2 = bitsH & Vector256.Create((byte)48);
            Vector256<byte> h3 = ((bitsH & Vector256.Create((byte)0xC0)).AsUInt16() >> 2).AsByte();
            Vector256<byte> q0 = (bits1 & m15) | h0, q1 = (bits2 & m15) | h1;
            Vector256<byte> q2 = ((bits1.AsUInt16() >> 4).AsByte() & m15) | h2, q3 = ((bits2.AsUInt16() >> 4).AsByte() & m15) | h3;
            sbyte* y = q8 + 128 * j;
            int s = 8 * j;
            Vector256<int> p0 = Avx2.MultiplyAddAdjacent(Scale(scales, s), Avx2.MultiplyAddAdjacent(q0, Vector256.Load(y)));
            Vector256<int> p1 = Avx2.MultiplyAddAdjacent(Scale(scales, s + 2), Avx2.MultiplyAddAdjacent(q1, Vector256.Load(y + 32)));
            Vector256<int> p2 = Avx2.MultiplyAddAdjacent(Scale(scales, s + 4), Avx2.MultiplyAddAdjacent(q2, Vector256.Load(y + 64)));
            Vector256<int> p3 = Avx2.MultiplyAddAdjacent(Scale(scales, s + 6), Avx2.MultiplyAddAdjacent(q3, Vector256.Load(y + 96)));
            sumi += p0 + p1;
            sumi += p2 + p3;
        }
        sumi -= q8sclsub;
        acc.Lanes = Fma.MultiplyAdd(Vector256.Create(d), Avx.ConvertToVector256Single(sumi), acc.Lanes);
    }

    /// <summary>get_scale_shuffle: scale s for the lower 16 bytes, s+1 for the upper, as int16 pairs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Scale(Vector128<sbyte> scales, int s) =>
        Vector256.Create(Vector128.Create((short)scales.GetElement(s)), Vector128.Create((short)scales.GetElement(s + 1)));

    public static float Finish(in KAcc acc) => Hsum.Float8(acc.Lanes);
}

/// <summary>ggml_vec_dot_q4_K_q8_K (AVX2): scales through vpmaddwd, mins through four float lanes.</summary>
internal unsafe struct Q4_KBlock : IKBlock
{
    public static int Bytes => BlockLayout.Q4_KBytes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Step(byte* w, byte* a, float* table, ref KAcc acc)
    {
        float ad = *(float*)a;
        float d = ad * table[*(ushort*)w];
        float dmin = -ad * table[*(ushort*)(w + 2)];
        Vector256<short> minsAndScales = KScales.Unpack(w + BlockLayout.KScales);
        Vector256<short> q8sums = Vector256.Load((short*)(a + BlockLayout.Q8_KBsums));
        Vector128<short> q8s = Ssse3.HorizontalAdd(q8sums.GetLower(), q8sums.GetUpper());
        Vector128<int> prod = Sse2.MultiplyAddAdjacent(minsAndScales.GetUpper(), q8s);
        acc.Mins = Fma.MultiplyAdd(Vector128.Create(dmin), Sse2.ConvertToVector128Single(prod), acc.Mins);
        acc.Lanes = Fma.MultiplyAdd(Vector256.Create(d), Avx.ConvertToVector256Single(KScales.Sum4Bit(w + BlockLayout.Q4_KQs, a, minsAndScales.GetLower(), null)), acc.Lanes);
    }

    public static float Finish(in KAcc acc) => Hsum.Float8(acc.Lanes) + Hsum.Float4(acc.Mins);
}

/// <summary>ggml_vec_dot_q5_K_q8_K (AVX2): as Q4_K with the fifth bits, mins summed into one float.</summary>
internal unsafe struct Q5_KBlock : IKBlock
{
    public static int Bytes => BlockLayout.Q5_KBytes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Step(byte* w, byte* a, float* table, ref KAcc acc)
    {
        float ad = *(float*)a;
        float d = ad * table[*(ushort*)w];
        float dmin = -ad * table[*(ushort*)(w + 2)];
        Vector256<short> minsAndScales = KScales.Unpack(w + BlockLayout.KScales);
        Vector256<short> q8sums = Vector256.Load((short*)(a + BlockLayout.Q8_KBsums));
        Vector128<short> q8s = Ssse3.HorizontalAdd(q8sums.GetLower(), q8sums.GetUpper());
        Vector128<int> prod = Sse2.MultiplyAddAdjacent(minsAndScales.GetUpper(), q8s);
        Vector128<int> h = Ssse3.HorizontalAdd(Ssse3.HorizontalAdd(prod, Vector128<int>.Zero), Vector128<int>.Zero);
        // summs += dmin * hsum: GCC contracts this into one FMA in ggml's build
        acc.Scalar = MathF.FusedMultiplyAdd(dmin, h.ToScalar(), acc.Scalar);
        acc.Lanes = Fma.MultiplyAdd(Vector256.Create(d), Avx.ConvertToVector256Single(KScales.Sum4Bit(w + BlockLayout.Q5_KQs, a, minsAndScales.GetLower(), w + BlockLayout.Q5_KQh)), acc.Lanes);
    }

    public static float Finish(in KAcc acc) => Hsum.Float8(acc.Lanes) + acc.Scalar;
}

/// <summary>
/// Q4_K in the order of ggml's repacked x86 kernels (ggml_gemv_q4_K_8x8_q8_K): per super-block the
/// whole integer sums, then acc = fma(isum, d·d8, acc) and accmin = fma(imin, dmin·d8, accmin); result acc − accmin.
/// </summary>
internal unsafe struct Q4_KInterleavedBlock : IKBlock
{
    public static int Bytes => BlockLayout.Q4_KBytes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Step(byte* w, byte* a, float* table, ref KAcc acc)
    {
        float ad = *(float*)a;
        Vector256<short> minsAndScales = KScales.Unpack(w + BlockLayout.KScales);
        Vector256<short> q8sums = Vector256.Load((short*)(a + BlockLayout.Q8_KBsums));
        Vector128<short> q8s = Ssse3.HorizontalAdd(q8sums.GetLower(), q8sums.GetUpper());
        int imin = Vector128.Sum(Sse2.MultiplyAddAdjacent(minsAndScales.GetUpper(), q8s));
        int isum = Vector256.Sum(KScales.Sum4Bit(w + BlockLayout.Q4_KQs, a, minsAndScales.GetLower(), null));
        acc.Scalar = MathF.FusedMultiplyAdd(isum, table[*(ushort*)w] * ad, acc.Scalar);
        acc.Mins = Vector128.CreateScalar(MathF.FusedMultiplyAdd(imin, table[*(ushort*)(w + 2)] * ad, acc.Mins.ToScalar()));
    }

    /// <summary>
    /// The same products in the order of ggml_gemm_q4_K_8x8_q8_K, which llama.cpp runs for each
    /// group of four tokens of a batch (the last n % 4 go through the gemv order of
    /// <see cref="Step"/>): the two float accumulators take one FMA per 64 weights (two
    /// sub-blocks), not one per super-block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StepGemm(byte* w, byte* a, float* table, ref KAcc acc)
    {
        float ad = *(float*)a;
        float d = table[*(ushort*)w] * ad, dmin = table[*(ushort*)(w + 2)] * ad;
        Vector256<short> minsAndScales = KScales.Unpack(w + BlockLayout.KScales);
        Vector256<short> q8sums = Vector256.Load((short*)(a + BlockLayout.Q8_KBsums));
        Vector128<short> q8s = Ssse3.HorizontalAdd(q8sums.GetLower(), q8sums.GetUpper());
        Vector128<int> imin = Sse2.MultiplyAddAdjacent(minsAndScales.GetUpper(), q8s); // lane sb: m(2sb)·S(2sb) + m(2sb+1)·S(2sb+1)
        Vector128<short> sc = minsAndScales.GetLower();
        sbyte* q8 = (sbyte*)(a + BlockLayout.Q8_KQs);
        byte* qs = w + BlockLayout.Q4_KQs;
        Vector256<byte> m4 = Vector256.Create((byte)0xF);
        float sum = acc.Scalar, mins = acc.Mins.ToScalar();
        for (int sb = 0; sb < 4; sb++)
        {
            Vector256<byte> bits = Vector256.Load(qs + 32 * sb);
            Vector256<byte> lo = bits & m4, hi = (bits.AsUInt16() >> 4).AsByte() & m4;
            Vector256<int> pl = Avx2.MultiplyAddAdjacent(Vector256.Create(sc.GetElement(2 * sb)), Avx2.MultiplyAddAdjacent(lo, Vector256.Load(q8 + 64 * sb)));
            Vector256<int> ph = Avx2.MultiplyAddAdjacent(Vector256.Create(sc.GetElement(2 * sb + 1)), Avx2.MultiplyAddAdjacent(hi, Vector256.Load(q8 + 64 * sb + 32)));
            sum = MathF.FusedMultiplyAdd(Vector256.Sum(pl + ph), d, sum);
            mins = MathF.FusedMultiplyAdd(imin.GetElement(sb), dmin, mins);
        }
        acc.Scalar = sum;
        acc.Mins = Vector128.CreateScalar(mins);
    }

    public static float Finish(in KAcc acc) => acc.Scalar - acc.Mins.ToScalar();
}

/// <summary>Shared pieces of the Q4_K and Q5_K kernels.</summary>
internal static unsafe class KScales
{
    /// <summary>The 12 packed bytes as ggml's utmp dance: int16 scales sc0..7 in the low half, mins m0..7 in the high half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> Unpack(byte* packed)
    {
        const uint kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
        uint u0 = ((uint*)packed)[0], u1 = ((uint*)packed)[1], u2 = ((uint*)packed)[2];
        uint t3 = ((u2 >> 4) & kmask2) | (((u1 >> 6) & kmask3) << 4);
        uint t2 = u1 & kmask1;
        uint t1 = (u2 & kmask2) | (((u0 >> 6) & kmask3) << 4);
        uint t0 = u0 & kmask1;
        return Avx2.ConvertToVector256Int16(Vector128.Create(t0, t1, t2, t3).AsByte());
    }

    /// <summary>
    /// The eight int32 lanes Σ sc·q·a of a Q4_K/Q5_K super-block: per 64 weights, low nibbles with
    /// scale 2j and high nibbles with scale 2j+1, through vpmaddubsw and vpmaddwd as ggml.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Sum4Bit(byte* qs, byte* a, Vector128<short> sc, byte* qh)
    {
        sbyte* q8 = (sbyte*)(a + BlockLayout.Q8_KQs);
        Vector256<byte> m4 = Vector256.Create((byte)0xF);
        Vector256<byte> hbits = qh != null ? Vector256.Load(qh) : default;
        Vector256<int> sumi = Vector256<int>.Zero;
        for (int j = 0; j < 4; j++)
        {
            Vector256<short> scaleL = Vector256.Create(sc.GetElement(2 * j)), scaleH = Vector256.Create(sc.GetElement(2 * j + 1));
            Vector256<byte> bits = Vector256.Load(qs + 32 * j);
            Vector256<byte> lo = bits & m4, hi = (bits.AsUInt16() >> 4).AsByte() & m4;
            if (qh != null)
            {
                lo += (((hbits.AsUInt16() >> (2 * j)).AsByte() & Vector256<byte>.One).AsUInt16() << 4).AsByte();
                hi += (((hbits.AsUInt16() >> (2 * j + 1)).AsByte() & Vector256<byte>.One).AsUInt16() << 4).AsByte();
            }
            Vector256<int> pl = Avx2.MultiplyAddAdjacent(scaleL, Avx2.MultiplyAddAdjacent(lo, Vector256.Load(q8 + 64 * j)));
            Vector256<int> ph = Avx2.MultiplyAddAdjacent(scaleH, Avx2.MultiplyAddAdjacent(hi, Vector256.Load(q8 + 64 * j + 32)));
            sumi += pl + ph;
        }
        return sumi;
    }
}

/// <summary>
/// The x86 driver of the K-quant kernels: one token at a time, four far-apart row streams per
/// thread (independent chains in flight, plain streams for the prefetchers); for batches, four
/// adjacent rows (kept in L1) against each token of a panel.
/// </summary>
internal static unsafe class MatMulK<TBlock> where TBlock : struct, IKBlock
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void X86(in MatMulJob j, int r0, int r1)
    {
        int n = j.A.N;
        if (n < 4)
        {
            int q = (r1 - r0) / 4;
            for (int t = 0; t < n; t++)
            {
                for (int r = r0; r < r0 + q; r++) Dot4(j, r, q, t);
                for (int r = r0 + 4 * q; r < r1; r++) Dot4(j, r, 0, t, single: true);
            }
            return;
        }
        int panel = Math.Max(4, (int)Math.Min(n, (256 * 1024 / j.A.RowBytes) & ~3L));
        // ggml's repacked Q4_K runs its gemm on whole groups of four tokens, its gemv on the rest
        int gemmTokens = j.Interleaved ? n - n % 4 : 0;
        for (int t0 = 0; t0 < n; t0 += panel)
        {
            int t1 = Math.Min(n, t0 + panel);
            int r = r0;
            for (; r + 4 <= r1; r += 4)
            {
                for (int t = t0; t < t1; t++) Dot4(j, r, 1, t, gemm: t < gemmTokens);
            }
            for (; r < r1; r++)
            {
                for (int t = t0; t < t1; t++) Dot4(j, r, 0, t, single: true, gemm: t < gemmTokens);
            }
        }
    }

    /// <summary>Rows r, r+q, r+2q, r+3q (or just r) against token t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4(in MatMulJob j, int r, int q, int t, bool single = false, bool gemm = false)
    {
        int nb = j.Cols / 256, bytes = TBlock.Bytes;
        long step = q * j.RowBytes;
        byte* w = j.Row(r), a = j.A.Row(t);
        float* table = Fp16.Table;
        KAcc c0 = default, c1 = default, c2 = default, c3 = default;
        for (int b = 0; b < nb; b++, w += bytes, a += BlockLayout.Q8_KBytes)
        {
            if (typeof(TBlock) == typeof(Q4_KInterleavedBlock) && gemm)
            {
                Q4_KInterleavedBlock.StepGemm(w, a, table, ref c0);
                if (single) continue;
                Q4_KInterleavedBlock.StepGemm(w + step, a, table, ref c1);
                Q4_KInterleavedBlock.StepGemm(w + 2 * step, a, table, ref c2);
                Q4_KInterleavedBlock.StepGemm(w + 3 * step, a, table, ref c3);
                continue;
            }
            TBlock.Step(w, a, table, ref c0);
            if (single) continue;
            TBlock.Step(w + step, a, table, ref c1);
            TBlock.Step(w + 2 * step, a, table, ref c2);
            TBlock.Step(w + 3 * step, a, table, ref c3);
        }
        float* y = j.Y + t * j.Rows + r;
        y[0] = TBlock.Finish(c0);
        if (single) return;
        y[q] = TBlock.Finish(c1);
        y[2 * q] = TBlock.Finish(c2);
        y[3 * q] = TBlock.Finish(c3);
    }
}
