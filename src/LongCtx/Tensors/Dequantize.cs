using System.Runtime.InteropServices;

namespace LongCtx.Tensors;

/// <summary>
/// Row dequantization bit-exact with ggml's <c>dequantize_row_*</c> (ggml-quants.c) and
/// <c>ggml_fp16_to_fp32_row</c> / <c>ggml_bf16_to_fp32_row</c>: the same products in the same
/// order, no fused multiply-add.
/// </summary>
public static class Dequantize
{
    /// <summary>Dequantizes <c>dst.Length</c> elements of <paramref name="type"/> from <paramref name="src"/>.</summary>
    /// <exception cref="ArgumentException">The type is not supported, <c>dst.Length</c> is not a whole number of blocks, or <paramref name="src"/> is too short.</exception>
    public static void Row(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        long bytes = GgmlTypeInfo.RowSize(type, dst.Length);
        if (src.Length < bytes)
        {
            throw new ArgumentException($"{dst.Length} {GgmlTypeInfo.Name(type)} elements need {bytes} bytes, got {src.Length}", nameof(src));
        }
        src = src[..(int)bytes];
        switch (type)
        {
            case GgmlType.F32: MemoryMarshal.Cast<byte, float>(src).CopyTo(dst); break;
            case GgmlType.F16: HalfConversions.Fp16ToFp32(MemoryMarshal.Cast<byte, ushort>(src), dst); break;
            case GgmlType.BF16: HalfConversions.Bf16ToFp32(MemoryMarshal.Cast<byte, ushort>(src), dst); break;
            case GgmlType.Q8_0: Q8_0(src, dst); break;
            case GgmlType.Q4_0: Q4_0(src, dst); break;
            case GgmlType.Q5_0: Q5_0(src, dst); break;
            case GgmlType.Q4_K: Q4_K(src, dst); break;
            case GgmlType.Q5_K: Q5_K(src, dst); break;
            case GgmlType.Q6_K: Q6_K(src, dst); break;
            case GgmlType.Q8_K: Q8_K(src, dst); break;
            default: throw new ArgumentException($"dequantizing {GgmlTypeInfo.Name(type)} is not supported", nameof(type));
        }
    }

    private static void Q8_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 32; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * BlockLayout.Q8_0Bytes, BlockLayout.Q8_0Bytes);
            float d = BlockLayout.Half(b, 0);
            Span<float> y = dst.Slice(i * 32, 32);
            for (int j = 0; j < 32; j++)
            {
                y[j] = (sbyte)b[2 + j] * d;
            }
        }
    }

    private static void Q4_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 32; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * BlockLayout.Q4_0Bytes, BlockLayout.Q4_0Bytes);
            float d = BlockLayout.Half(b, 0);
            Span<float> y = dst.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                y[j] = ((b[2 + j] & 0x0F) - 8) * d;
                y[j + 16] = ((b[2 + j] >> 4) - 8) * d;
            }
        }
    }

    // dequantize_row_q5_0: the fifth bit of element j is bit j of qh.
    private static void Q5_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 32; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * BlockLayout.Q5_0Bytes, BlockLayout.Q5_0Bytes);
            float d = BlockLayout.Half(b, 0);
            uint qh = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(b[2..]);
            Span<float> y = dst.Slice(i * 32, 32);
            for (int j = 0; j < 16; j++)
            {
                int x0 = (b[6 + j] & 0x0F) | (int)(((qh >> j) << 4) & 0x10);
                int x1 = (b[6 + j] >> 4) | (int)((qh >> (j + 12)) & 0x10);
                y[j] = (x0 - 16) * d;
                y[j + 16] = (x1 - 16) * d;
            }
        }
    }

    private static void Q4_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 256; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * BlockLayout.Q4_KBytes, BlockLayout.Q4_KBytes);
            float d = BlockLayout.Half(b, 0), min = BlockLayout.Half(b, 2);
            ReadOnlySpan<byte> scales = b.Slice(BlockLayout.KScales, 12);
            Span<float> y = dst.Slice(i * 256, 256);
            for (int g = 0; g < 4; g++)
            {
                ReadOnlySpan<byte> q = b.Slice(BlockLayout.Q4_KQs + 32 * g, 32);
                BlockLayout.ScaleMinK4(2 * g, scales, out int sc, out int m);
                float d1 = d * sc, m1 = min * m;
                BlockLayout.ScaleMinK4(2 * g + 1, scales, out sc, out m);
                float d2 = d * sc, m2 = min * m;
                for (int l = 0; l < 32; l++)
                {
                    y[64 * g + l] = d1 * (q[l] & 0xF) - m1;
                    y[64 * g + 32 + l] = d2 * (q[l] >> 4) - m2;
                }
            }
        }
    }

    private static void Q5_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 256; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * BlockLayout.Q5_KBytes, BlockLayout.Q5_KBytes);
            float d = BlockLayout.Half(b, 0), min = BlockLayout.Half(b, 2);
            ReadOnlySpan<byte> scales = b.Slice(BlockLayout.KScales, 12);
            ReadOnlySpan<byte> qh = b.Slice(BlockLayout.Q5_KQh, 32);
            Span<float> y = dst.Slice(i * 256, 256);
            for (int g = 0; g < 4; g++)
            {
                ReadOnlySpan<byte> ql = b.Slice(BlockLayout.Q5_KQs + 32 * g, 32);
                BlockLayout.ScaleMinK4(2 * g, scales, out int sc, out int m);
                float d1 = d * sc, m1 = min * m;
                BlockLayout.ScaleMinK4(2 * g + 1, scales, out sc, out m);
                float d2 = d * sc, m2 = min * m;
                int u1 = 1 << (2 * g), u2 = 2 << (2 * g);
                for (int l = 0; l < 32; l++)
                {
                    y[64 * g + l] = d1 * ((ql[l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0)) - m1;
                    y[64 * g + 32 + l] = d2 * ((ql[l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0)) - m2;
                }
            }
        }
    }

    private static void Q6_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 256; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * BlockLayout.Q6_KBytes, BlockLayout.Q6_KBytes);
            float d = BlockLayout.Half(b, BlockLayout.Q6_KD);
            for (int h = 0; h < 2; h++)
            {
                ReadOnlySpan<byte> ql = b.Slice(64 * h, 64);
                ReadOnlySpan<byte> qh = b.Slice(BlockLayout.Q6_KQh + 32 * h, 32);
                ReadOnlySpan<byte> sc = b.Slice(BlockLayout.Q6_KScales + 8 * h, 8);
                Span<float> y = dst.Slice(i * 256 + 128 * h, 128);
                for (int l = 0; l < 32; l++)
                {
                    int s = l / 16;
                    int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    y[l] = d * (sbyte)sc[s] * q1;
                    y[l + 32] = d * (sbyte)sc[s + 2] * q2;
                    y[l + 64] = d * (sbyte)sc[s + 4] * q3;
                    y[l + 96] = d * (sbyte)sc[s + 6] * q4;
                }
            }
        }
    }

    private static void Q8_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        for (int i = 0; i < dst.Length / 256; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * BlockLayout.Q8_KBytes, BlockLayout.Q8_KBytes);
            float d = MemoryMarshal.Read<float>(b);
            for (int j = 0; j < 256; j++)
            {
                dst[i * 256 + j] = d * (sbyte)b[BlockLayout.Q8_KQs + j];
            }
        }
    }
}
