using System.Runtime.InteropServices;

namespace LongCtx.Tensors;

/// <summary>
/// Quantizes activations into a weight type's dot-product partner ("vec_dot_type" in ggml-cpu.c's
/// type_traits_cpu) exactly as ggml's x86 CPU backend does, so that matmul results match llama.cpp.
/// </summary>
public static class ActivationQuantize
{
    /// <summary>
    /// The type activations are converted to before a dot with weights of <paramref name="weightType"/>:
    /// Q8_0 for Q8_0/Q4_0, Q8_K for Q4_K/Q5_K/Q6_K, and the weight type itself for F32/F16/BF16.
    /// </summary>
    /// <exception cref="ArgumentException">The weight type is not supported.</exception>
    public static GgmlType VecDotType(GgmlType weightType) => weightType switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 => weightType,
        GgmlType.Q8_0 or GgmlType.Q4_0 => GgmlType.Q8_0,
        GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => GgmlType.Q8_K,
        _ => throw new ArgumentException($"no matmul for {GgmlTypeInfo.Name(weightType)} weights", nameof(weightType)),
    };

    /// <summary>
    /// Converts <c>src.Length</c> floats into <paramref name="vecDotType"/> as the CPU backend's
    /// from_float does. Q8_0 differs from <see cref="Quantize"/>'s reference: the AVX path multiplies
    /// by 127/amax and rounds half to even, where the reference multiplies by 1/(amax/127) and rounds
    /// half away from zero. Q8_K is the reference algorithm on x86.
    /// </summary>
    /// <exception cref="ArgumentException">The type is not a vec_dot_type, the length is not whole blocks, or <paramref name="dst"/> is too short.</exception>
    public static void Row(GgmlType vecDotType, ReadOnlySpan<float> src, Span<byte> dst)
    {
        long bytes = GgmlTypeInfo.RowSize(vecDotType, src.Length);
        if (dst.Length < bytes)
        {
            throw new ArgumentException($"{src.Length} {GgmlTypeInfo.Name(vecDotType)} elements need {bytes} bytes, got {dst.Length}", nameof(dst));
        }
        switch (vecDotType)
        {
            case GgmlType.F32: src.CopyTo(MemoryMarshal.Cast<byte, float>(dst)); break;
            case GgmlType.F16: HalfConversions.Fp32ToFp16(src, MemoryMarshal.Cast<byte, ushort>(dst)); break;
            case GgmlType.BF16: HalfConversions.Fp32ToBf16(src, MemoryMarshal.Cast<byte, ushort>(dst)); break;
            case GgmlType.Q8_0: Q8_0(src, dst); break;
            case GgmlType.Q8_K: Quantize.Q8_K(src, dst); break;
            default: throw new ArgumentException($"{GgmlTypeInfo.Name(vecDotType)} is not an activation type", nameof(vecDotType));
        }
    }

    // ggml-cpu/arch/x86/quants.c quantize_row_q8_0 (AVX/AVX2; the AVX-512 builds run the same code).
    private static void Q8_0(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (int i = 0; i < src.Length / 32; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * 32, 32);
            Span<byte> b = dst.Slice(i * BlockLayout.Q8_0Bytes, BlockLayout.Q8_0Bytes);
            float max = 0;
            for (int j = 0; j < 32; j++) max = MathF.Max(max, MathF.Abs(x[j]));
            float d = max / 127f;
            MemoryMarshal.Write(b, HalfConversions.Fp32ToFp16(d));
            float id = max != 0.0f ? 127f / max : 0.0f;
            for (int j = 0; j < 32; j++)
            {
                // _mm256_round_ps(NEAREST) rounds half to even; the packs saturate to int8.
                float r = MathF.Round(x[j] * id, MidpointRounding.ToEven);
                b[2 + j] = (byte)(sbyte)Math.Clamp((int)r, -128, 127);
            }
        }
    }
}
