namespace LongCtx.Tensors;

/// <summary>TEMPORARY stand-in until the tensors branch lands: F32 and F16 only.</summary>
public static class Quantize
{
    /// <summary>Quantizes one row.</summary>
    public static void Row(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        switch (type)
        {
            case GgmlType.F32:
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(src).CopyTo(dst);
                break;
            case GgmlType.F16:
                var h = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(dst);
                for (int i = 0; i < src.Length; i++) h[i] = (Half)src[i];
                break;
            default:
                throw new NotSupportedException(type.ToString());
        }
    }
}
