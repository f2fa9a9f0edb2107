namespace LongCtx.Tensors;

/// <summary>
/// ggml's tensor element types, with ggml's numeric ids (<c>enum ggml_type</c> in ggml.h) so that a
/// GGUF reader can name every type it meets. Ids 4, 5, 31–33 and 36–38 were removed from ggml and
/// are not members; <see cref="GgmlTypeInfo.IsKnown"/> tells a known id from an unknown one.
/// </summary>
public enum GgmlType : uint
{
    /// <summary>32-bit float.</summary>
    F32 = 0,
    /// <summary>IEEE half.</summary>
    F16 = 1,
    /// <summary>32 weights: fp16 scale + 4-bit quants (offset 8).</summary>
    Q4_0 = 2,
    /// <summary>32 weights: fp16 scale and min + 4-bit quants.</summary>
    Q4_1 = 3,
    /// <summary>32 weights: fp16 scale + 5-bit quants.</summary>
    Q5_0 = 6,
    /// <summary>32 weights: fp16 scale and min + 5-bit quants.</summary>
    Q5_1 = 7,
    /// <summary>32 weights: fp16 scale + 8-bit quants.</summary>
    Q8_0 = 8,
    /// <summary>32 weights: fp16 scale and sum + 8-bit quants (activation type).</summary>
    Q8_1 = 9,
    /// <summary>2-bit k-quant.</summary>
    Q2_K = 10,
    /// <summary>3-bit k-quant.</summary>
    Q3_K = 11,
    /// <summary>4-bit k-quant: 256 weights, 8 sub-blocks with 6-bit scales and mins.</summary>
    Q4_K = 12,
    /// <summary>5-bit k-quant.</summary>
    Q5_K = 13,
    /// <summary>6-bit k-quant: 256 weights, 16 sub-blocks with 8-bit scales.</summary>
    Q6_K = 14,
    /// <summary>8-bit k-quant with float scale and group sums (activation type for k-quant dots).</summary>
    Q8_K = 15,
    /// <summary>i-quant 2.06 bpw.</summary>
    IQ2_XXS = 16,
    /// <summary>i-quant 2.31 bpw.</summary>
    IQ2_XS = 17,
    /// <summary>i-quant 3.06 bpw.</summary>
    IQ3_XXS = 18,
    /// <summary>i-quant 1.56 bpw.</summary>
    IQ1_S = 19,
    /// <summary>non-linear 4-bit, 32-weight blocks.</summary>
    IQ4_NL = 20,
    /// <summary>i-quant 3.44 bpw.</summary>
    IQ3_S = 21,
    /// <summary>i-quant 2.5 bpw.</summary>
    IQ2_S = 22,
    /// <summary>non-linear 4-bit, 256-weight blocks.</summary>
    IQ4_XS = 23,
    /// <summary>8-bit integer.</summary>
    I8 = 24,
    /// <summary>16-bit integer.</summary>
    I16 = 25,
    /// <summary>32-bit integer.</summary>
    I32 = 26,
    /// <summary>64-bit integer.</summary>
    I64 = 27,
    /// <summary>64-bit float.</summary>
    F64 = 28,
    /// <summary>i-quant 1.75 bpw.</summary>
    IQ1_M = 29,
    /// <summary>bfloat16.</summary>
    BF16 = 30,
    /// <summary>ternary 1.69 bpw.</summary>
    TQ1_0 = 34,
    /// <summary>ternary 2.06 bpw.</summary>
    TQ2_0 = 35,
    /// <summary>OCP microscaling fp4, 32-weight blocks with an e8m0 scale.</summary>
    MXFP4 = 39,
    /// <summary>NVIDIA fp4, 64-weight blocks with four e4m3 scales.</summary>
    NVFP4 = 40,
    /// <summary>1-bit, 128-weight blocks.</summary>
    Q1_0 = 41,
    /// <summary>2-bit, 64-weight blocks.</summary>
    Q2_0 = 42,
}
