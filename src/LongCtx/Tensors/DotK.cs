using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LongCtx.Tensors;

/// <summary>
/// Dot products of Q4_K, Q5_K and Q6_K weight rows with Q8_K activations
/// (ggml_vec_dot_q{4,5,6}_K_q8_K). Integer sums per super-block are exact; the mins (Q4_K/Q5_K)
/// and the −32 offset (Q6_K) are folded in through Q8_K's per-16 bsums. Scalar twins beside AVX2.
/// </summary>
internal static unsafe class DotK
{
    public static float Q4_K(byte* w, byte* a, int n) => Avx2.IsSupported ? Q45_KAvx2(w, a, n, false) : Q45_KScalar(w, a, n, false);
    public static float Q5_K(byte* w, byte* a, int n) => Avx2.IsSupported ? Q45_KAvx2(w, a, n, true) : Q45_KScalar(w, a, n, true);
    public static float Q6_K(byte* w, byte* a, int n) => Avx2.IsSupported ? Q6_KAvx2(w, a, n) : Q6_KScalar(w, a, n);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScalesMins(byte* q, int* sc, int* m)
    {
        for (int j = 0; j < 4; j++)
        {
            sc[j] = q[j] & 63;
            m[j] = q[j + 4] & 63;
            sc[j + 4] = (q[j + 8] & 0xF) | ((q[j] >> 6) << 4);
            m[j + 4] = (q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4);
        }
    }

    // Σ_j min_j · (bsum_{2j} + bsum_{2j+1}).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MinsDot(int* m, short* bsums)
    {
        int s = 0;
        for (int j = 0; j < 8; j++) s += m[j] * (bsums[2 * j] + bsums[2 * j + 1]);
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Q45_KScalar(byte* w, byte* a, int n, bool fiveBit)
    {
        int blockBytes = fiveBit ? BlockLayout.Q5_KBytes : BlockLayout.Q4_KBytes;
        int qsOffset = fiveBit ? BlockLayout.Q5_KQs : BlockLayout.Q4_KQs;
        int* sc = stackalloc int[8];
        int* m = stackalloc int[8];
        float sum = 0;
        for (int b = 0; b < n / 256; b++, w += blockBytes, a += BlockLayout.Q8_KBytes)
        {
            ScalesMins(w + BlockLayout.KScales, sc, m);
            sbyte* y = (sbyte*)(a + BlockLayout.Q8_KQs);
            byte* qh = w + BlockLayout.Q5_KQh;
            int sumi = 0;
            for (int g = 0; g < 4; g++)
            {
                byte* q = w + qsOffset + 32 * g;
                int s0 = 0, s1 = 0;
                for (int l = 0; l < 32; l++)
                {
                    int lo = q[l] & 0xF, hi = q[l] >> 4;
                    if (fiveBit)
                    {
                        lo |= ((qh[l] >> (2 * g)) & 1) << 4;
                        hi |= ((qh[l] >> (2 * g + 1)) & 1) << 4;
                    }
                    s0 += lo * y[64 * g + l];
                    s1 += hi * y[64 * g + 32 + l];
                }
                sumi += sc[2 * g] * s0 + sc[2 * g + 1] * s1;
            }
            float da = *(float*)a;
            int mins = MinsDot(m, (short*)(a + BlockLayout.Q8_KBsums));
            sum += da * BlockLayout.Half(w) * sumi - da * BlockLayout.Half(w + 2) * mins;
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Q45_KAvx2(byte* w, byte* a, int n, bool fiveBit)
    {
        int blockBytes = fiveBit ? BlockLayout.Q5_KBytes : BlockLayout.Q4_KBytes;
        int qsOffset = fiveBit ? BlockLayout.Q5_KQs : BlockLayout.Q4_KQs;
        int* sc = stackalloc int[8];
        int* m = stackalloc int[8];
        Vector256<float> acc = Vector256<float>.Zero;
        Vector256<byte> low4 = Vector256.Create((byte)0x0F);
        Vector256<byte> one = Vector256.Create((byte)1);
        float minSum = 0;
        for (int b = 0; b < n / 256; b++, w += blockBytes, a += BlockLayout.Q8_KBytes)
        {
            ScalesMins(w + BlockLayout.KScales, sc, m);
            Vector256<byte> qh = fiveBit ? Vector256.Load(w + BlockLayout.Q5_KQh) : default;
            sbyte* y = (sbyte*)(a + BlockLayout.Q8_KQs);
            Vector256<int> sumi = Vector256<int>.Zero;
            for (int g = 0; g < 4; g++)
            {
                Vector256<byte> q = Vector256.Load(w + qsOffset + 32 * g);
                Vector256<byte> lo = q & low4;
                Vector256<byte> hi = (q.AsUInt16() >> 4).AsByte() & low4;
                if (fiveBit)
                {
                    lo |= (((qh.AsUInt16() >> (2 * g)).AsByte() & one).AsUInt16() << 4).AsByte();
                    hi |= (((qh.AsUInt16() >> (2 * g + 1)).AsByte() & one).AsUInt16() << 4).AsByte();
                }
                Vector256<short> p0 = Avx2.MultiplyAddAdjacent(lo, Vector256.Load(y + 64 * g));
                Vector256<short> p1 = Avx2.MultiplyAddAdjacent(hi, Vector256.Load(y + 64 * g + 32));
                sumi += Avx2.MultiplyAddAdjacent(p0, Vector256.Create((short)sc[2 * g]));
                sumi += Avx2.MultiplyAddAdjacent(p1, Vector256.Create((short)sc[2 * g + 1]));
            }
            float da = *(float*)a;
            acc = Fma.MultiplyAdd(Vector256.Create(da * BlockLayout.Half(w)), Avx.ConvertToVector256Single(sumi), acc);
            minSum += da * BlockLayout.Half(w + 2) * MinsDot(m, (short*)(a + BlockLayout.Q8_KBsums));
        }
        return Vector256.Sum(acc) - minSum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Q6_KScalar(byte* w, byte* a, int n)
    {
        float sum = 0;
        int* s = stackalloc int[8];
        for (int b = 0; b < n / 256; b++, w += BlockLayout.Q6_KBytes, a += BlockLayout.Q8_KBytes)
        {
            sbyte* sc = (sbyte*)(w + BlockLayout.Q6_KScales);
            sbyte* y = (sbyte*)(a + BlockLayout.Q8_KQs);
            int sumi = 0;
            for (int h = 0; h < 2; h++)
            {
                byte* ql = w + 64 * h;
                byte* qh = w + BlockLayout.Q6_KQh + 32 * h;
                sbyte* yh = y + 128 * h;
                new Span<int>(s, 8).Clear();
                for (int l = 0; l < 32; l++)
                {
                    int k = l / 16;
                    s[k] += (((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32) * yh[l];
                    s[k + 2] += (((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32) * yh[l + 32];
                    s[k + 4] += (((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32) * yh[l + 64];
                    s[k + 6] += (((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32) * yh[l + 96];
                }
                for (int k = 0; k < 8; k++) sumi += sc[8 * h + k] * s[k];
            }
            sum += *(float*)a * BlockLayout.Half(w + BlockLayout.Q6_KD) * sumi;
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Q6_KAvx2(byte* w, byte* a, int n)
    {
        float sum = 0;
        Vector256<byte> low4 = Vector256.Create((byte)0x0F);
        Vector256<byte> three = Vector256.Create((byte)3);
        for (int b = 0; b < n / 256; b++, w += BlockLayout.Q6_KBytes, a += BlockLayout.Q8_KBytes)
        {
            sbyte* sc = (sbyte*)(w + BlockLayout.Q6_KScales);
            sbyte* y = (sbyte*)(a + BlockLayout.Q8_KQs);
            short* bsums = (short*)(a + BlockLayout.Q8_KBsums);
            // The quants are stored +32; take 32·Σ sc_j·bsum_j off once per block.
            int offset = 0;
            for (int j = 0; j < 16; j++) offset += sc[j] * bsums[j];
            Vector256<int> sumi = Vector256<int>.Zero;
            for (int h = 0; h < 2; h++)
            {
                Vector256<byte> ql0 = Vector256.Load(w + 64 * h);
                Vector256<byte> ql1 = Vector256.Load(w + 64 * h + 32);
                Vector256<ushort> qh = Vector256.Load(w + BlockLayout.Q6_KQh + 32 * h).AsUInt16();
                Vector256<byte> q1 = (ql0 & low4) | (((qh.AsByte() & three).AsUInt16() << 4).AsByte());
                Vector256<byte> q2 = (ql1 & low4) | ((((qh >> 2).AsByte() & three).AsUInt16() << 4).AsByte());
                Vector256<byte> q3 = ((ql0.AsUInt16() >> 4).AsByte() & low4) | ((((qh >> 4).AsByte() & three).AsUInt16() << 4).AsByte());
                Vector256<byte> q4 = ((ql1.AsUInt16() >> 4).AsByte() & low4) | ((((qh >> 6).AsByte() & three).AsUInt16() << 4).AsByte());
                sbyte* yh = y + 128 * h;
                sbyte* s = sc + 8 * h;
                sumi += Scaled(Avx2.MultiplyAddAdjacent(q1, Vector256.Load(yh)), s[0], s[1]);
                sumi += Scaled(Avx2.MultiplyAddAdjacent(q2, Vector256.Load(yh + 32)), s[2], s[3]);
                sumi += Scaled(Avx2.MultiplyAddAdjacent(q3, Vector256.Load(yh + 64)), s[4], s[5]);
                sumi += Scaled(Avx2.MultiplyAddAdjacent(q4, Vector256.Load(yh + 96)), s[6], s[7]);
            }
            sum += *(float*)a * BlockLayout.Half(w + BlockLayout.Q6_KD) * (Vector256.Sum(sumi) - 32 * offset);
        }
        return sum;
    }

    // Lower 16 bytes' pair sums get scale s0, upper 16 get s1 (one scale per 16 elements).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Scaled(Vector256<short> p, sbyte s0, sbyte s1) =>
        Avx2.MultiplyAddAdjacent(p, Vector256.Create(Vector128.Create((short)s0), Vector128.Create((short)s1)));
}
