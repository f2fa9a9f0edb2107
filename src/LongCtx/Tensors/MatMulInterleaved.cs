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
        byte* packed = stackalloc byte[nb * PackedBlock + 64];
        packed = (byte*)(((nint)packed + 63) & ~(nint)63);
        int panel = Math.Max(4, (int)Math.Min(n, (256 * 1024 / j.A.RowBytes) & ~3L));
        for (int t0 = 0; t0 < n; t0 += panel)
        {
            int t1 = Math.Min(n, t0 + panel);
            int r = r0;
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
