using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LongCtx.KvCache;

/// <summary>
/// Asymmetric b-bit quantization of one group, x ≈ min + scale · code with code ∈ [0, 2^b − 1].
/// min is rounded down and scale up to F16, so every value of the group decodes within scale / 2
/// of itself: the format's error bound, which the tests check.
/// </summary>
internal static class KvQuant
{
    /// <summary>F16 min and scale for a group whose values lie in [<paramref name="lo"/>, <paramref name="hi"/>].</summary>
    public static void Params(float lo, float hi, int levels, out Half min, out Half scale)
    {
        min = (Half)lo;
        if ((float)min > lo)
        {
            min = Half.BitDecrement(min);
        }
        float m = (float)min;
        if (hi <= m)
        {
            scale = Half.Zero;
            return;
        }
        scale = (Half)((hi - m) / levels);
        while (m + (float)scale * levels < hi)
        {
            scale = Half.BitIncrement(scale);
        }
    }

    /// <summary>The code of <paramref name="x"/>.</summary>
    public static int Code(float x, float min, float scale, int levels) =>
        scale == 0 ? 0 : Math.Clamp((int)MathF.Round((x - min) / scale), 0, levels);

    /// <summary>Writes code <paramref name="code"/> at element <paramref name="i"/> of a packed row.</summary>
    public static void Put(Span<byte> row, int i, int code, int bits)
    {
        if (bits == 8)
        {
            row[i] = (byte)code;
            return;
        }
        ref byte b = ref row[i >> 1];
        b = (i & 1) == 0 ? (byte)((b & 0xF0) | code) : (byte)((b & 0x0F) | (code << 4));
    }

    /// <summary>Reads the code at element <paramref name="i"/> of a packed row.</summary>
    public static int Get(ReadOnlySpan<byte> row, int i, int bits) =>
        bits == 8 ? row[i] : (row[i >> 1] >> ((i & 1) << 2)) & 0xF;

    /// <summary>The codes of a packed row as floats, <c>dst.Length</c> of them (16 bytes at a time where the hardware has 128-bit vectors).</summary>
    public static void Unpack(ReadOnlySpan<byte> row, int bits, Span<float> dst)
    {
        int n = dst.Length, i = 0;
        ref byte src = ref MemoryMarshal.GetReference(row);
        ref float d = ref MemoryMarshal.GetReference(dst);
        if (bits == 8)
        {
            if (Vector128.IsHardwareAccelerated)
            {
                for (; i + 16 <= n; i += 16)
                {
                    (Vector128<ushort> lo, Vector128<ushort> hi) = Vector128.Widen(Vector128.LoadUnsafe(ref src, (nuint)i));
                    (Vector128<uint> a, Vector128<uint> b) = Vector128.Widen(lo);
                    (Vector128<uint> c, Vector128<uint> e) = Vector128.Widen(hi);
                    Vector128.ConvertToSingle(a).StoreUnsafe(ref d, (nuint)i);
                    Vector128.ConvertToSingle(b).StoreUnsafe(ref d, (nuint)(i + 4));
                    Vector128.ConvertToSingle(c).StoreUnsafe(ref d, (nuint)(i + 8));
                    Vector128.ConvertToSingle(e).StoreUnsafe(ref d, (nuint)(i + 12));
                }
            }
            for (; i < n; i++)
            {
                Unsafe.Add(ref d, i) = Unsafe.Add(ref src, i);
            }
            return;
        }
        for (; i + 1 < n; i += 2)
        {
            int b = Unsafe.Add(ref src, i >> 1);
            Unsafe.Add(ref d, i) = b & 0xF;
            Unsafe.Add(ref d, i + 1) = b >> 4;
        }
        if (i < n)
        {
            Unsafe.Add(ref d, i) = Unsafe.Add(ref src, i >> 1) & 0xF;
        }
    }

    /// <summary>Bytes of a packed row of <paramref name="n"/> codes.</summary>
    public static int RowBytes(int n, int bits) => bits == 8 ? n : (n + 1) / 2;
}
