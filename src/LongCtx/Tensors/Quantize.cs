using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static LongCtx.Tensors.QuantizeHelpers;

namespace LongCtx.Tensors;

/// <summary>
/// Reference weight quantizers bit-exact with ggml's <c>quantize_row_*_ref</c> (ggml-quants.c),
/// for writing test models and for a future quantizer. These are the deterministic file-writing
/// algorithms, not the activation quantizers the CPU backend runs (see <see cref="ActivationQuantize"/>).
/// </summary>
public static class Quantize
{
    /// <summary>Quantizes <c>src.Length</c> floats into <paramref name="dst"/> as <paramref name="type"/>.</summary>
    /// <exception cref="ArgumentException">The type is not supported, <c>src.Length</c> is not a whole number of blocks, or <paramref name="dst"/> is too short.</exception>
    public static void Row(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        long bytes = GgmlTypeInfo.RowSize(type, src.Length);
        if (dst.Length < bytes)
        {
            throw new ArgumentException($"{src.Length} {GgmlTypeInfo.Name(type)} elements need {bytes} bytes, got {dst.Length}", nameof(dst));
        }
        dst = dst[..(int)bytes];
        switch (type)
        {
            case GgmlType.F32: src.CopyTo(MemoryMarshal.Cast<byte, float>(dst)); break;
            case GgmlType.F16: HalfConversions.Fp32ToFp16(src, MemoryMarshal.Cast<byte, ushort>(dst)); break;
            case GgmlType.BF16: HalfConversions.Fp32ToBf16(src, MemoryMarshal.Cast<byte, ushort>(dst)); break;
            case GgmlType.Q8_0: Q8_0(src, dst); break;
            case GgmlType.Q4_0: Q4_0(src, dst); break;
            case GgmlType.Q5_0: Q5_0(src, dst); break;
            case GgmlType.Q4_K: Q45_K(src, dst, fiveBit: false); break;
            case GgmlType.Q5_K: Q45_K(src, dst, fiveBit: true); break;
            case GgmlType.Q6_K: Q6_K(src, dst); break;
            case GgmlType.Q8_K: Q8_K(src, dst); break;
            default: throw new ArgumentException($"quantizing to {GgmlTypeInfo.Name(type)} is not supported", nameof(type));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteHalf(Span<byte> b, int offset, float v) =>
        Unsafe.WriteUnaligned(ref b[offset], HalfConversions.Fp32ToFp16(v));

    // quantize_row_q8_0_ref: d = amax/127, q = roundf(x/d) (round half away from zero).
    private static void Q8_0(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (int i = 0; i < src.Length / 32; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 32, 32);
            Span<byte> b = dst.Slice(i * BlockLayout.Q8_0Bytes, BlockLayout.Q8_0Bytes);
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = MathF.Max(amax, MathF.Abs(x[j]));
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            WriteHalf(b, 0, d);
            for (int j = 0; j < 32; j++)
            {
                b[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
            }
        }
    }

    // quantize_row_q4_0_ref: d = (signed max)/-8, q = min(15, trunc(x/d + 8.5)).
    private static void Q4_0(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (int i = 0; i < src.Length / 32; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 32, 32);
            Span<byte> b = dst.Slice(i * BlockLayout.Q4_0Bytes, BlockLayout.Q4_0Bytes);
            float amax = 0, max = 0;
            for (int j = 0; j < 32; j++)
            {
                if (amax < MathF.Abs(x[j])) { amax = MathF.Abs(x[j]); max = x[j]; }
            }
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            WriteHalf(b, 0, d);
            for (int j = 0; j < 16; j++)
            {
                int xi0 = Math.Min(15, (int)(x[j] * id + 8.5f));
                int xi1 = Math.Min(15, (int)(x[16 + j] * id + 8.5f));
                b[2 + j] = (byte)(xi0 | (xi1 << 4));
            }
        }
    }

    // quantize_row_q5_0_ref: d = (signed max)/-16, q = min(31, trunc(x/d + 16.5)), fifth bits in qh.
    private static void Q5_0(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (int i = 0; i < src.Length / 32; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 32, 32);
            Span<byte> b = dst.Slice(i * BlockLayout.Q5_0Bytes, BlockLayout.Q5_0Bytes);
            float amax = 0, max = 0;
            for (int j = 0; j < 32; j++)
            {
                if (amax < MathF.Abs(x[j])) { amax = MathF.Abs(x[j]); max = x[j]; }
            }
            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            WriteHalf(b, 0, d);
            uint qh = 0;
            for (int j = 0; j < 16; j++)
            {
                int xi0 = Math.Min(31, (int)(sbyte)(int)(x[j] * id + 16.5f));
                int xi1 = Math.Min(31, (int)(sbyte)(int)(x[16 + j] * id + 16.5f));
                b[6 + j] = (byte)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
                qh |= (uint)((xi0 & 0x10) >> 4) << j;
                qh |= (uint)((xi1 & 0x10) >> 4) << (j + 16);
            }
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b[2..], qh);
        }
    }

    // quantize_row_q4_K_ref / quantize_row_q5_K_ref: per 32-weight sub-block a weighted
    // scale+min search, then 6-bit scales/mins relative to the largest, then requantize.
    private static void Q45_K(ReadOnlySpan<float> src, Span<byte> dst, bool fiveBit)
    {
        int nmax = fiveBit ? 31 : 15;
        int blockBytes = fiveBit ? BlockLayout.Q5_KBytes : BlockLayout.Q4_KBytes;
        Span<byte> L = stackalloc byte[256];
        Span<byte> laux = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> scales = stackalloc float[8];
        for (int i = 0; i < src.Length / 256; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 256, 256);
            Span<byte> b = dst.Slice(i * blockBytes, blockBytes);
            b.Clear();
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 8; j++)
            {
                ReadOnlySpan<float> xs = x.Slice(32 * j, 32);
                float sumX2 = 0;
                for (int l = 0; l < 32; l++) sumX2 += xs[l] * xs[l];
                float avX = MathF.Sqrt(sumX2 / 32);
                for (int l = 0; l < 32; l++) weights[l] = avX + MathF.Abs(xs[l]);
                scales[j] = fiveBit
                    ? MakeQkx2Quants(32, 31, xs, weights, L.Slice(32 * j, 32), out mins[j], laux, -0.5f, 0.1f, 15, false)
                    : MakeQkx2Quants(32, 15, xs, weights, L.Slice(32 * j, 32), out mins[j], laux, -1f, 0.1f, 20, false);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            float invScale = maxScale > 0 ? 63f / maxScale : 0f;
            float invMin = maxMin > 0 ? 63f / maxMin : 0f;
            Span<byte> sc = b.Slice(BlockLayout.KScales, 12);
            for (int j = 0; j < 8; j++)
            {
                int ls = Math.Min(63, (int)(byte)NearestInt(invScale * scales[j]));
                int lm = Math.Min(63, (int)(byte)NearestInt(invMin * mins[j]));
                if (j < 4)
                {
                    sc[j] = (byte)ls;
                    sc[j + 4] = (byte)lm;
                }
                else
                {
                    sc[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                    sc[j - 4] |= (byte)((ls >> 4) << 6);
                    sc[j] |= (byte)((lm >> 4) << 6);
                }
            }
            WriteHalf(b, 0, maxScale / 63f);
            WriteHalf(b, 2, maxMin / 63f);
            float dAll = BlockLayout.Half(b, 0), dminAll = BlockLayout.Half(b, 2);
            for (int j = 0; j < 8; j++)
            {
                BlockLayout.ScaleMinK4(j, sc, out int s, out int m);
                float d = dAll * s;
                if (d == 0) continue;
                float dm = dminAll * m;
                for (int ii = 0; ii < 32; ii++)
                {
                    int l = NearestInt((x[32 * j + ii] + dm) / d);
                    L[32 * j + ii] = (byte)Math.Max(0, Math.Min(nmax, l));
                }
            }
            if (fiveBit)
            {
                Span<byte> qh = b.Slice(BlockLayout.Q5_KQh, 32);
                for (int g = 0; g < 4; g++)
                {
                    Span<byte> ql = b.Slice(BlockLayout.Q5_KQs + 32 * g, 32);
                    byte m1 = (byte)(1 << (2 * g)), m2 = (byte)(2 << (2 * g));
                    for (int j = 0; j < 32; j++)
                    {
                        int l1 = L[64 * g + j], l2 = L[64 * g + j + 32];
                        if (l1 > 15) { l1 -= 16; qh[j] |= m1; }
                        if (l2 > 15) { l2 -= 16; qh[j] |= m2; }
                        ql[j] = (byte)(l1 | (l2 << 4));
                    }
                }
            }
            else
            {
                for (int g = 0; g < 4; g++)
                {
                    Span<byte> q = b.Slice(BlockLayout.Q4_KQs + 32 * g, 32);
                    for (int l = 0; l < 32; l++) q[l] = (byte)(L[64 * g + l] | (L[64 * g + l + 32] << 4));
                }
            }
        }
    }

    // quantize_row_q6_K_ref: per 16-weight group make_qx_quants(nmax 32, weights x²), 8-bit group
    // scales relative to the largest-magnitude one, then requantize to [-32, 31].
    private static void Q6_K(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<sbyte> L = stackalloc sbyte[256];
        Span<float> scales = stackalloc float[16];
        for (int i = 0; i < src.Length / 256; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 256, 256);
            Span<byte> b = dst.Slice(i * BlockLayout.Q6_KBytes, BlockLayout.Q6_KBytes);
            b.Clear();
            float maxScale = 0, maxAbsScale = 0;
            for (int ib = 0; ib < 16; ib++)
            {
                float scale = MakeQxQuants(16, 32, x.Slice(16 * ib, 16), L.Slice(16 * ib, 16), 1);
                scales[ib] = scale;
                float absScale = MathF.Abs(scale);
                if (absScale > maxAbsScale) { maxAbsScale = absScale; maxScale = scale; }
            }
            if (maxAbsScale < 1e-15f)
            {
                continue; // all-zero block (d = +0)
            }
            float iscale = -128f / maxScale;
            WriteHalf(b, BlockLayout.Q6_KD, 1 / iscale);
            Span<byte> sc = b.Slice(BlockLayout.Q6_KScales, 16);
            for (int ib = 0; ib < 16; ib++)
            {
                sc[ib] = (byte)(sbyte)Math.Min(127, NearestInt(iscale * scales[ib]));
            }
            float dAll = BlockLayout.Half(b, BlockLayout.Q6_KD);
            for (int j = 0; j < 16; j++)
            {
                float d = dAll * (sbyte)sc[j];
                if (d == 0) continue;
                for (int ii = 0; ii < 16; ii++)
                {
                    int l = NearestInt(x[16 * j + ii] / d);
                    L[16 * j + ii] = (sbyte)(Math.Max(-32, Math.Min(31, l)) + 32);
                }
            }
            for (int h = 0; h < 2; h++)
            {
                Span<byte> ql = b.Slice(64 * h, 64);
                Span<byte> qh = b.Slice(BlockLayout.Q6_KQh + 32 * h, 32);
                int j = 128 * h;
                for (int l = 0; l < 32; l++)
                {
                    int q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                    ql[l] = (byte)(q1 | (q3 << 4));
                    ql[l + 32] = (byte)(q2 | (q4 << 4));
                    qh[l] = (byte)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
                }
            }
        }
    }

    // quantize_row_q8_K_ref (also what the x86 CPU backend runs for Q8_K activations):
    // iscale = -127/(signed max), q = nearest_int(x·iscale), bsums per 16.
    internal static void Q8_K(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (int i = 0; i < src.Length / 256; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 256, 256);
            Span<byte> b = dst.Slice(i * BlockLayout.Q8_KBytes, BlockLayout.Q8_KBytes);
            float max = 0, amax = 0;
            for (int j = 0; j < 256; j++)
            {
                float ax = MathF.Abs(x[j]);
                if (ax > amax) { amax = ax; max = x[j]; }
            }
            if (amax == 0)
            {
                b.Clear();
                continue;
            }
            float iscale = -127f / max;
            Span<sbyte> qs = MemoryMarshal.Cast<byte, sbyte>(b.Slice(BlockLayout.Q8_KQs, 256));
            for (int j = 0; j < 256; j++)
            {
                qs[j] = (sbyte)Math.Min(127, NearestInt(iscale * x[j]));
            }
            Span<short> bsums = MemoryMarshal.Cast<byte, short>(b.Slice(BlockLayout.Q8_KBsums, 32));
            for (int j = 0; j < 16; j++)
            {
                int sum = 0;
                for (int ii = 0; ii < 16; ii++) sum += qs[16 * j + ii];
                bsums[j] = (short)sum;
            }
            MemoryMarshal.Write(b, 1 / iscale);
        }
    }
}
