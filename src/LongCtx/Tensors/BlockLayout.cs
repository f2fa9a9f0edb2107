using System.Runtime.CompilerServices;

namespace LongCtx.Tensors;

/// <summary>
/// Byte offsets inside ggml's quant blocks (ggml-common.h), little-endian, no padding.
/// Q8_0 {fp16 d; i8 qs[32]}; Q4_0 {fp16 d; u8 qs[16]} (low nibbles = elements 0..15);
/// Q5_0 {fp16 d; u8 qh[4] (bit j = fifth bit of element j); u8 qs[16]};
/// Q4_K {fp16 d, dmin; u8 scales[12]; u8 qs[128]}; Q5_K {fp16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]};
/// Q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; fp16 d}; Q8_K {f32 d; i8 qs[256]; i16 bsums[16]}.
/// </summary>
internal static class BlockLayout
{
    public const int QK = 32;
    public const int QK_K = 256;

    public const int Q8_0Bytes = 34;
    public const int Q4_0Bytes = 18;
    public const int Q5_0Bytes = 22;
    public const int Q4_KBytes = 144;
    public const int Q5_KBytes = 176;
    public const int Q6_KBytes = 210;
    public const int Q8_KBytes = 292;

    public const int KScales = 4;      // Q4_K / Q5_K: 12 bytes of packed 6-bit scales and mins
    public const int Q4_KQs = 16;
    public const int Q5_KQh = 16;
    public const int Q5_KQs = 48;
    public const int Q6_KQh = 128;
    public const int Q6_KScales = 192;
    public const int Q6_KD = 208;
    public const int Q8_KQs = 4;
    public const int Q8_KBsums = 260;

    /// <summary>Reads an fp16 at <paramref name="offset"/> and widens it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Half(ReadOnlySpan<byte> b, int offset) =>
        HalfConversions.Fp16ToFp32(Unsafe.ReadUnaligned<ushort>(ref Unsafe.AsRef(in b[offset])));

    /// <summary>Reads an fp16 at <paramref name="p"/> and widens it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float Half(byte* p) => HalfConversions.Fp16ToFp32(Unsafe.ReadUnaligned<ushort>(p));

    /// <summary>Sub-block <paramref name="j"/>'s 6-bit scale and min from the 12 packed bytes (ggml's get_scale_min_k4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScaleMinK4(int j, ReadOnlySpan<byte> q, out int d, out int m)
    {
        if (j < 4)
        {
            d = q[j] & 63;
            m = q[j + 4] & 63;
        }
        else
        {
            d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
            m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }
}
