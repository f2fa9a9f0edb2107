using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LongCtx.Tensors;

/// <summary>
/// Quantizes activations into a weight type's dot-product partner ("vec_dot_type" in ggml-cpu.c's
/// type_traits_cpu) exactly as ggml's x86 CPU backend does, so that matmul results match llama.cpp.
/// </summary>
public static class ActivationQuantize
{
    /// <summary>
    /// The type activations are converted to before a dot with weights of <paramref name="weightType"/>:
    /// Q8_0 for Q8_0/Q4_0/Q5_0, Q8_K for Q4_K/Q5_K/Q6_K, and the weight type itself for F32/F16/BF16.
    /// </summary>
    /// <exception cref="ArgumentException">The weight type is not supported.</exception>
    public static GgmlType VecDotType(GgmlType weightType) => weightType switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 => weightType,
        GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q5_0 => GgmlType.Q8_0,
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
    private static unsafe void Q8_0(ReadOnlySpan<float> src, Span<byte> dst)
    {
        fixed (byte* d = dst)
        {
            Q8_0Row(src, d, null, null, null);
        }
    }

    /// <summary>
    /// One row to Q8_0 as the CPU backend's from_float, optionally with the side data of
    /// <see cref="PackedActivations"/>: each block's scale as float, its per-4 lane sums (×−128) and its sum.
    /// </summary>
    internal static unsafe void Q8_0Row(ReadOnlySpan<float> src, byte* dst, float* scales, int* laneBias, int* blockSums)
    {
        fixed (float* x0 = src)
        {
            for (int i = 0; i < src.Length / 32; i++)
            {
                float* x = x0 + i * 32;
                byte* b = dst + i * BlockLayout.Q8_0Bytes;
                float max = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    Vector256<float> m = Vector256.Max(Vector256.Abs(Vector256.Load(x)), Vector256.Abs(Vector256.Load(x + 8)));
                    m = Vector256.Max(m, Vector256.Max(Vector256.Abs(Vector256.Load(x + 16)), Vector256.Abs(Vector256.Load(x + 24))));
                    Vector128<float> h = Vector128.Max(m.GetLower(), m.GetUpper());
                    max = MathF.Max(MathF.Max(h[0], h[1]), MathF.Max(h[2], h[3]));
                }
                else
                {
                    for (int j = 0; j < 32; j++) max = MathF.Max(max, MathF.Abs(x[j]));
                }
                ushort dh = HalfConversions.Fp32ToFp16(max / 127f);
                *(ushort*)b = dh;
                float id = max != 0.0f ? 127f / max : 0.0f;
                sbyte* q = (sbyte*)(b + 2);
                if (Avx.IsSupported)
                {
                    // _mm256_round_ps(NEAREST) rounds half to even; the packs saturate to int8.
                    Vector256<float> mul = Vector256.Create(id);
                    for (int j = 0; j < 32; j += 8)
                    {
                        Vector256<int> v = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Multiply(Avx.LoadVector256(x + j), mul)));
                        Vector256<int> c = Vector256.Min(Vector256.Max(v, Vector256.Create(-128)), Vector256.Create(127));
                        Vector128<short> s16 = Vector128.Narrow(c.GetLower(), c.GetUpper());
                        Vector128.Narrow(s16, s16).AsSByte().GetLower().Store(q + j);
                    }
                }
                else
                {
                    for (int j = 0; j < 32; j++)
                    {
                        float r = MathF.Round(x[j] * id, MidpointRounding.ToEven);
                        q[j] = (sbyte)Math.Clamp((int)r, -128, 127);
                    }
                }
                if (scales != null)
                {
                    scales[i] = Fp16.ToFloat(dh);
                    int total = 0;
                    for (int l = 0; l < 8; l++)
                    {
                        int s = q[4 * l] + q[4 * l + 1] + q[4 * l + 2] + q[4 * l + 3];
                        laneBias[i * 8 + l] = -128 * s;
                        total += s;
                    }
                    blockSums[i] = total;
                }
            }
        }
    }
}
