using LongCtx.Reference;
using LongCtx.Tensors;

namespace LongCtx.Tests.Tensors;

/// <summary>Activation quantization against the CPU backend, and each dot kernel against its scalar twin and ggml's vec_dot.</summary>
public unsafe class DotKernelTests
{
    public DotKernelTests() => GgmlNative.EnsureCpuInit();

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q8_K)]
    [InlineData(GgmlType.F16)]
    public void ActivationQuantizationMatchesCpuBackend(GgmlType type)
    {
        const int n = 2048;
        float[] x = TensorTestData.Floats(n, 11);
        // Exact ties (k + 0.5 after scaling) are where the SIMD and reference Q8_0 rounding differ.
        for (int i = 0; i < 32; i++) x[i] = i - 15.5f;
        x[40] = 127f;
        var mine = new byte[GgmlTypeInfo.RowSize(type, n)];
        var theirs = new byte[mine.Length];
        ActivationQuantize.Row(type, x, mine);
        fixed (float* px = x)
        fixed (byte* pt = theirs)
        {
            switch (type)
            {
                case GgmlType.Q8_0: GgmlNative.quantize_row_q8_0(px, pt, n); break;
                case GgmlType.Q8_K: GgmlNative.quantize_row_q8_K(px, pt, n); break;
                default: GgmlNative.ggml_cpu_fp32_to_fp16(px, (ushort*)pt, n); break;
            }
        }
        Assert.Equal(theirs, mine);
    }

    [Fact]
    public void SimdQ8_0RoundingDiffersFromReference()
    {
        // 0.5 ties: the reference rounds away from zero, the AVX path to even.
        float[] x = new float[32];
        for (int i = 0; i < 32; i++) x[i] = i - 15.5f;
        x[31] = 127f;
        var simd = new byte[34];
        var reference = new byte[34];
        ActivationQuantize.Row(GgmlType.Q8_0, x, simd);
        Quantize.Row(GgmlType.Q8_0, x, reference);
        Assert.NotEqual(reference, simd);
    }

    public static TheoryData<GgmlType, int> Cases()
    {
        var data = new TheoryData<GgmlType, int>();
        foreach (GgmlType t in new[] { GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K })
        {
            int block = GgmlTypeInfo.BlockSize(t) == 1 ? 1 : GgmlTypeInfo.BlockSize(t);
            data.Add(t, block == 1 ? 1003 : block * 7);
            data.Add(t, block == 1 ? 4096 : block * 16);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void KernelMatchesScalarTwinAndGgml(GgmlType type, int n)
    {
        GgmlType act = ActivationQuantize.VecDotType(type);
        for (int seed = 0; seed < 3; seed++)
        {
            float[] wf = TensorTestData.Floats(n, 1000 + seed);
            float[] xf = TensorTestData.Floats(n, 2000 + seed, scale: 3f);
            var w = new byte[GgmlTypeInfo.RowSize(type, n) + 64];
            var a = new byte[GgmlTypeInfo.RowSize(act, n) + 64];
            Quantize.Row(type, wf, w);
            ActivationQuantize.Row(act, xf, a);
            fixed (byte* pw = w)
            fixed (byte* pa = a)
            {
                float simd = MatMul.Dot(type)(pw, pa, n);
                float scalar = Scalar(type, pw, pa, n);
                float ggml = Ggml(type, pw, pa, n);
                float magnitude = AbsDot(type, act, w, a, n);
                Assert.True(Math.Abs(simd - scalar) <= 2e-6f * magnitude, $"{type} n={n}: simd {simd} vs scalar {scalar} (|·| {magnitude})");
                Assert.True(Math.Abs(simd - ggml) <= 2e-6f * magnitude, $"{type} n={n}: simd {simd} vs ggml {ggml} (|·| {magnitude})");
            }
        }
    }

    private static float Scalar(GgmlType type, byte* w, byte* a, int n) => type switch
    {
        GgmlType.F32 => DotFloat.F32Scalar((float*)w, (float*)a, n),
        GgmlType.F16 => DotFloat.F16Scalar((ushort*)w, (ushort*)a, n),
        GgmlType.BF16 => DotFloat.BF16Scalar((ushort*)w, (ushort*)a, n),
        GgmlType.Q8_0 => DotQ8.Q8_0Scalar(w, a, n),
        GgmlType.Q4_0 => DotQ8.Q4_0Scalar(w, a, n),
        GgmlType.Q4_K => DotK.Q45_KScalar(w, a, n, false),
        GgmlType.Q5_K => DotK.Q45_KScalar(w, a, n, true),
        GgmlType.Q6_K => DotK.Q6_KScalar(w, a, n),
        _ => throw new ArgumentException(type.ToString()),
    };

    private static float Ggml(GgmlType type, byte* w, byte* a, int n)
    {
        float s;
        switch (type)
        {
            case GgmlType.F32: GgmlNative.ggml_vec_dot_f32(n, &s, 0, (float*)w, 0, (float*)a, 0, 1); break;
            case GgmlType.F16: GgmlNative.ggml_vec_dot_f16(n, &s, 0, (ushort*)w, 0, (ushort*)a, 0, 1); break;
            case GgmlType.BF16: GgmlNative.ggml_vec_dot_bf16(n, &s, 0, (ushort*)w, 0, (ushort*)a, 0, 1); break;
            case GgmlType.Q8_0: GgmlNative.ggml_vec_dot_q8_0_q8_0(n, &s, 0, w, 0, a, 0, 1); break;
            case GgmlType.Q4_0: GgmlNative.ggml_vec_dot_q4_0_q8_0(n, &s, 0, w, 0, a, 0, 1); break;
            case GgmlType.Q4_K: GgmlNative.ggml_vec_dot_q4_K_q8_K(n, &s, 0, w, 0, a, 0, 1); break;
            case GgmlType.Q5_K: GgmlNative.ggml_vec_dot_q5_K_q8_K(n, &s, 0, w, 0, a, 0, 1); break;
            case GgmlType.Q6_K: GgmlNative.ggml_vec_dot_q6_K_q8_K(n, &s, 0, w, 0, a, 0, 1); break;
            default: throw new ArgumentException(type.ToString());
        }
        return s;
    }

    // Σ|w_i·a_i| over the dequantized operands: the scale that float rounding error is relative to.
    internal static float AbsDot(GgmlType type, GgmlType act, byte[] w, byte[] a, int n)
    {
        var wd = new float[n];
        var ad = new float[n];
        Dequantize.Row(type, w, wd);
        Dequantize.Row(act, a, ad);
        double s = 0;
        for (int i = 0; i < n; i++) s += Math.Abs((double)wd[i] * ad[i]);
        return (float)s + 1e-30f;
    }
}
