namespace LongCtx.Tensors;

/// <summary>ggml tensor element types, with ggml's numeric ids as stored in GGUF files.</summary>
#pragma warning disable CS1591 // members are named exactly as the format's enum
public enum GgmlType : uint
{
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
    I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
    TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39, NVFP4 = 40, Q1_0 = 41, Q2_0 = 42,
}
#pragma warning restore CS1591

/// <summary>Block geometry of each <see cref="GgmlType"/> (ggml's type_traits).</summary>
public static class GgmlTypeInfo
{
    /// <summary>Whether ggml defines this type id.</summary>
    public static bool IsKnown(GgmlType type) => BlockSizeOrZero(type) != 0;

    /// <summary>Whether LongCtx can compute with tensors of this type.</summary>
    public static bool IsSupported(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;

    /// <summary>Elements per block.</summary>
    public static int BlockSize(GgmlType type) => BlockSizeOrZero(type) is var b and > 0 ? b
        : throw new ArgumentException($"unknown ggml type id {(uint)type}", nameof(type));

    /// <summary>Bytes per block.</summary>
    public static int TypeSize(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.I32 => 4,
        GgmlType.F16 or GgmlType.BF16 or GgmlType.I16 => 2,
        GgmlType.I8 => 1,
        GgmlType.I64 or GgmlType.F64 => 8,
        GgmlType.Q4_0 => 18, GgmlType.Q4_1 => 20, GgmlType.Q5_0 => 22, GgmlType.Q5_1 => 24,
        GgmlType.Q8_0 => 34, GgmlType.Q8_1 => 36,
        GgmlType.Q2_K => 84, GgmlType.Q3_K => 110, GgmlType.Q4_K => 144, GgmlType.Q5_K => 176,
        GgmlType.Q6_K => 210, GgmlType.Q8_K => 292,
        GgmlType.IQ2_XXS => 66, GgmlType.IQ2_XS => 74, GgmlType.IQ3_XXS => 98, GgmlType.IQ1_S => 50,
        GgmlType.IQ4_NL => 18, GgmlType.IQ3_S => 110, GgmlType.IQ2_S => 82, GgmlType.IQ4_XS => 136,
        GgmlType.IQ1_M => 56, GgmlType.TQ1_0 => 54, GgmlType.TQ2_0 => 66, GgmlType.MXFP4 => 17,
        GgmlType.NVFP4 => 36, GgmlType.Q1_0 => 18, GgmlType.Q2_0 => 18,
        _ => throw new ArgumentException($"unknown ggml type id {(uint)type}", nameof(type)),
    };

    /// <summary>Bytes of a row of <paramref name="n"/> elements.</summary>
    /// <exception cref="ArgumentException"><paramref name="n"/> is not a multiple of the block size.</exception>
    public static long RowSize(GgmlType type, long n)
    {
        int block = BlockSize(type);
        if (n % block != 0)
        {
            throw new ArgumentException($"a row of {n} elements is not a multiple of {Name(type)}'s block size {block}", nameof(n));
        }
        return n / block * TypeSize(type);
    }

    /// <summary>ggml's name of the type ("q4_K", "bf16", ...).</summary>
    public static string Name(GgmlType type) => IsKnown(type) ? type switch
    {
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K
            => type.ToString().ToLowerInvariant().Replace("_k", "_K"),
        _ => type.ToString().ToLowerInvariant(),
    } : $"type#{(uint)type}";

    private static int BlockSizeOrZero(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.I8 or GgmlType.I16 or GgmlType.I32
            or GgmlType.I64 or GgmlType.F64 => 1,
        GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0 or GgmlType.Q8_1
            or GgmlType.IQ4_NL or GgmlType.MXFP4 => 32,
        GgmlType.NVFP4 or GgmlType.Q2_0 => 64,
        GgmlType.Q1_0 => 128,
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K
            or GgmlType.IQ2_XXS or GgmlType.IQ2_XS or GgmlType.IQ3_XXS or GgmlType.IQ1_S or GgmlType.IQ3_S
            or GgmlType.IQ2_S or GgmlType.IQ4_XS or GgmlType.IQ1_M or GgmlType.TQ1_0 or GgmlType.TQ2_0 => 256,
        _ => 0,
    };
}
