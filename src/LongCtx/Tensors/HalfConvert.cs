using System.Numerics.Tensors;

namespace LongCtx.Tensors;

/// <summary>Row conversions between float and IEEE half (round to nearest even, as F16C).</summary>
public static class HalfConvert
{
    /// <summary>dst[i] = (Half)src[i].</summary>
    public static void FromSingle(ReadOnlySpan<float> src, Span<Half> dst) => TensorPrimitives.ConvertToHalf(src, dst);

    /// <summary>dst[i] = (float)src[i].</summary>
    public static void ToSingle(ReadOnlySpan<Half> src, Span<float> dst) => TensorPrimitives.ConvertToSingle(src, dst);
}
