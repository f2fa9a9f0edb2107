using System.Runtime.InteropServices;

namespace LongCtx.Tensors;

/// <summary>TEMPORARY stand-in until the tensors branch lands: float types only.</summary>
public static class Dequantize
{
    /// <summary>Dequantizes one row.</summary>
    public static void Row(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        switch (type)
        {
            case GgmlType.F32: MemoryMarshal.Cast<byte, float>(src)[..dst.Length].CopyTo(dst); break;
            case GgmlType.F16:
                var h = MemoryMarshal.Cast<byte, Half>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)h[i];
                break;
            default: throw new NotSupportedException(type.ToString());
        }
    }
}
