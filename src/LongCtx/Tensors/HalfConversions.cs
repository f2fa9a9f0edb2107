using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LongCtx.Tensors;

/// <summary>
/// fp16 and bf16 conversions bit-exact with ggml (ggml-impl.h): fp32→fp16 rounds to nearest even
/// and turns every NaN into the quiet NaN 0x7E00 (sign kept); fp32→bf16 rounds to nearest even and
/// quiets NaNs by setting bit 6 of the truncated pattern. Both widenings are exact.
/// </summary>
public static class HalfConversions
{
    // 2^-112, 2^112 and 2^-110 (C's hex float literals, which C# lacks).
    private static readonly float Exp2M112 = BitConverter.UInt32BitsToSingle(0x07800000u);
    private static readonly float Exp2P112 = BitConverter.UInt32BitsToSingle(0x77800000u);
    private static readonly float Exp2M110 = BitConverter.UInt32BitsToSingle(0x08800000u);

    /// <summary>fp16 bits to float (exact), as ggml_compute_fp16_to_fp32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Fp16ToFp32(ushort h)
    {
        uint w = (uint)h << 16;
        uint sign = w & 0x80000000u;
        uint twoW = w + w;
        // Normal and inf/NaN: shift the exponent and mantissa into place and rebias by 2^-112.
        float normalized = BitConverter.UInt32BitsToSingle((twoW >> 4) + (0xE0u << 23)) * Exp2M112;
        // Subnormal: build 0.5 + m·2^-24 in the mantissa and subtract 0.5.
        float denormalized = BitConverter.UInt32BitsToSingle((twoW >> 17) | (126u << 23)) - 0.5f;
        uint bits = twoW < (1u << 27) ? BitConverter.SingleToUInt32Bits(denormalized) : BitConverter.SingleToUInt32Bits(normalized);
        return BitConverter.UInt32BitsToSingle(sign | bits);
    }

    /// <summary>float to fp16 bits, round to nearest even, NaN → 0x7E00, as ggml_compute_fp32_to_fp16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Fp32ToFp16(float f)
    {
        float b = MathF.Abs(f) * Exp2P112 * Exp2M110;
        uint w = BitConverter.SingleToUInt32Bits(f);
        uint shl1W = w + w;
        uint sign = w & 0x80000000u;
        uint bias = shl1W & 0xFF000000u;
        if (bias < 0x71000000u)
        {
            bias = 0x71000000u;
        }
        // Adding a power of two aligned to the fp16 exponent makes the FPU round the mantissa for us.
        b = BitConverter.UInt32BitsToSingle((bias >> 1) + 0x07800000u) + b;
        uint bits = BitConverter.SingleToUInt32Bits(b);
        uint expBits = (bits >> 13) & 0x00007C00u;
        uint mantissaBits = bits & 0x00000FFFu;
        uint nonsign = expBits + mantissaBits;
        return (ushort)((sign >> 16) | (shl1W > 0xFF000000u ? 0x7E00u : nonsign));
    }

    /// <summary>bf16 bits to float (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Bf16ToFp32(ushort h) => BitConverter.UInt32BitsToSingle((uint)h << 16);

    /// <summary>float to bf16 bits: round to nearest even; NaN keeps its top bits and is forced quiet.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Fp32ToBf16(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if ((u & 0x7fffffffu) > 0x7f800000u)
        {
            return (ushort)((u >> 16) | 64);
        }
        return (ushort)((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
    }

    /// <summary>Widens a row of fp16 values.</summary>
    /// <exception cref="ArgumentException"><paramref name="dst"/> is shorter than <paramref name="src"/>.</exception>
    public static void Fp16ToFp32(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("destination too short", nameof(dst));
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref ushort s = ref MemoryMarshal.GetReference(src);
            ref float d = ref MemoryMarshal.GetReference(dst);
            for (; i + 8 <= src.Length; i += 8)
            {
                Vector256<uint> w = Vector256.WidenLower(Vector256.Create(Vector128.LoadUnsafe(ref s, (nuint)i), Vector128<ushort>.Zero)) << 16;
                Fp16ToFp32(w).StoreUnsafe(ref d, (nuint)i);
            }
        }
        for (; i < src.Length; i++)
        {
            dst[i] = Fp16ToFp32(src[i]);
        }
    }

    /// <summary>The vector form of <see cref="Fp16ToFp32(ushort)"/>; <paramref name="w"/> holds the fp16 bits in the upper half of each lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Fp16ToFp32(Vector256<uint> w)
    {
        Vector256<uint> sign = w & Vector256.Create(0x80000000u);
        Vector256<uint> twoW = w + w;
        Vector256<float> normalized = ((twoW >> 4) + Vector256.Create(0xE0u << 23)).AsSingle() * Vector256.Create(Exp2M112);
        Vector256<float> denormalized = ((twoW >> 17) | Vector256.Create(126u << 23)).AsSingle() - Vector256.Create(0.5f);
        Vector256<uint> isDenormal = Vector256.LessThan(twoW, Vector256.Create(1u << 27));
        return (sign | Vector256.ConditionalSelect(isDenormal, denormalized.AsUInt32(), normalized.AsUInt32())).AsSingle();
    }

    /// <summary>Narrows a row of floats to fp16 exactly as ggml does.</summary>
    /// <exception cref="ArgumentException"><paramref name="dst"/> is shorter than <paramref name="src"/>.</exception>
    public static void Fp32ToFp16(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("destination too short", nameof(dst));
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float s = ref MemoryMarshal.GetReference(src);
            ref ushort d = ref MemoryMarshal.GetReference(dst);
            for (; i + 8 <= src.Length; i += 8)
            {
                Vector256<float> f = Vector256.LoadUnsafe(ref s, (nuint)i);
                Vector256<float> b = Vector256.Abs(f) * Vector256.Create(Exp2P112) * Vector256.Create(Exp2M110);
                Vector256<uint> w = f.AsUInt32();
                Vector256<uint> shl1W = w + w;
                Vector256<uint> sign = w & Vector256.Create(0x80000000u);
                Vector256<uint> bias = Vector256.Max(shl1W & Vector256.Create(0xFF000000u), Vector256.Create(0x71000000u));
                b = ((bias >> 1) + Vector256.Create(0x07800000u)).AsSingle() + b;
                Vector256<uint> bits = b.AsUInt32();
                Vector256<uint> nonsign = ((bits >> 13) & Vector256.Create(0x7C00u)) + (bits & Vector256.Create(0xFFFu));
                Vector256<uint> isNan = Vector256.GreaterThan(shl1W, Vector256.Create(0xFF000000u));
                Vector256<uint> r = (sign >> 16) | Vector256.ConditionalSelect(isNan, Vector256.Create(0x7E00u), nonsign);
                Vector128<ushort> packed = Vector256.Narrow(r, r).GetLower();
                packed.StoreUnsafe(ref d, (nuint)i);
            }
        }
        for (; i < src.Length; i++)
        {
            dst[i] = Fp32ToFp16(src[i]);
        }
    }

    /// <summary>Widens a row of bf16 values.</summary>
    /// <exception cref="ArgumentException"><paramref name="dst"/> is shorter than <paramref name="src"/>.</exception>
    public static void Bf16ToFp32(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("destination too short", nameof(dst));
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref ushort s = ref MemoryMarshal.GetReference(src);
            ref float d = ref MemoryMarshal.GetReference(dst);
            for (; i + 8 <= src.Length; i += 8)
            {
                Vector256<uint> w = Vector256.WidenLower(Vector256.Create(Vector128.LoadUnsafe(ref s, (nuint)i), Vector128<ushort>.Zero)) << 16;
                w.AsSingle().StoreUnsafe(ref d, (nuint)i);
            }
        }
        for (; i < src.Length; i++)
        {
            dst[i] = Bf16ToFp32(src[i]);
        }
    }

    /// <summary>Narrows a row of floats to bf16 exactly as ggml does.</summary>
    /// <exception cref="ArgumentException"><paramref name="dst"/> is shorter than <paramref name="src"/>.</exception>
    public static void Fp32ToBf16(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("destination too short", nameof(dst));
        for (int i = 0; i < src.Length; i++)
        {
            dst[i] = Fp32ToBf16(src[i]);
        }
    }
}
