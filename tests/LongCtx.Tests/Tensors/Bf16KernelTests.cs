using LongCtx.Reference;
using LongCtx.Tensors;

namespace LongCtx.Tests.Tensors;

/// <summary>
/// BF16 products in each of ggml's x86 orders (<see cref="DotBf16"/>), bit-exact with the build
/// that has that order: vec_dot against the haswell, skylakex and zen4 libraries' own
/// <c>ggml_vec_dot_bf16</c>, and whole products (tinyBLAS for batches) against
/// <c>ggml_mul_mat</c> computed by the haswell and zen4 builds; each order also against the
/// scalar twin within float rounding.
/// </summary>
public unsafe class Bf16KernelTests
{
    public Bf16KernelTests() => GgmlNative.EnsureCpuInit();

    [Theory]
    [InlineData(320)]
    [InlineData(293)]
    [InlineData(30)]
    [InlineData(512)]
    public void VecDotOrdersAreBitExactWithGgml(int n)
    {
        for (int seed = 0; seed < 4; seed++)
        {
            ushort[] x = Bf16(TensorTestData.Floats(n, 100 + seed)), y = Bf16(TensorTestData.Floats(n, 200 + seed, scale: 3f));
            fixed (ushort* px = x)
            fixed (ushort* py = y)
            {
                float scalar = DotBf16.VecDot(DotBf16.Order.Scalar, px, py, n);
                float magnitude = AbsDot(x, y);
                float s;
                if (Kernels.IsSupported(KernelLevel.Avx2))
                {
                    GgmlNative.ggml_vec_dot_bf16(n, &s, 0, px, 0, py, 0, 1);
                    Assert.Equal(s, DotBf16.VecDot(DotBf16.Order.Avx2, px, py, n));
                }
                if (Kernels.IsSupported(KernelLevel.Avx512))
                {
                    GgmlNative.ggml_vec_dot_bf16_avx512(n, &s, 0, px, 0, py, 0, 1);
                    Assert.Equal(s, DotBf16.VecDot(DotBf16.Order.Avx512, px, py, n));
                }
                if (DotBf16.CpuHasAvx512Bf16 && GgmlNative.Zen4.Usable)
                {
                    GgmlNative.Zen4.ggml_vec_dot_bf16(n, &s, 0, px, 0, py, 0, 1);
                    Assert.Equal(s, DotBf16.VecDot(DotBf16.Order.Avx512Bf16, px, py, n));
                }
                foreach (DotBf16.Order order in Supported())
                {
                    float v = DotBf16.VecDot(order, px, py, n);
                    Assert.True(Math.Abs(v - scalar) <= 2e-6f * magnitude, $"{order} n={n}: {v} vs scalar {scalar}");
                    if (n % DotBf16.TinyBlasStep(order) == 0)
                    {
                        float t = DotBf16.TinyBlas(order, px, py, n);
                        Assert.True(Math.Abs(t - scalar) <= 2e-6f * magnitude, $"{order} tinyBLAS n={n}: {t} vs scalar {scalar}");
                    }
                }
            }
        }
    }

    /// <summary>Decode (vec_dot), batches (tinyBLAS), and batches tinyBLAS refuses (rows not a multiple of 4).</summary>
    [Theory]
    [InlineData(36, 256, 1)]
    [InlineData(36, 256, 2)]
    [InlineData(40, 512, 7)]
    [InlineData(36, 96, 5)]
    [InlineData(37, 256, 6)]
    [InlineData(64, 256, 64)]
    public void MatMulIsBitExactWithGgmlGraph(int rows, int cols, int n)
    {
        byte[] w = new byte[rows * cols * 2];
        for (int r = 0; r < rows; r++)
        {
            Quantize.Row(GgmlType.BF16, TensorTestData.Floats(cols, 7000 + r), w.AsSpan(r * cols * 2, cols * 2));
        }
        float[] x = TensorTestData.Floats(n * cols, 9, scale: 2f);
        if (Kernels.IsSupported(KernelLevel.Avx2))
        {
            Assert.Equal(GgmlNative.MulMat((int)GgmlType.BF16, w, rows, cols, x, n, zen4: false), Run(KernelLevel.Avx2, w, rows, cols, x, n));
        }
        if (Kernels.IsSupported(KernelLevel.Avx512) && DotBf16.CpuHasAvx512Bf16 && GgmlNative.Zen4.Usable)
        {
            Assert.Equal(GgmlNative.MulMat((int)GgmlType.BF16, w, rows, cols, x, n, zen4: true), Run(KernelLevel.Avx512, w, rows, cols, x, n));
        }
    }

    private static float[] Run(KernelLevel level, byte[] w, int rows, int cols, float[] x, int n)
    {
        var y = new float[n * rows];
        using var pool = new WorkerPool(2);
        fixed (byte* pw = w)
        {
            MatMul.Compute(GgmlType.BF16, pw, rows, cols, x, n, y, pool, new MatMulScratch(), level, interleaved: false);
        }
        return y;
    }

    private static IEnumerable<DotBf16.Order> Supported()
    {
        if (Kernels.IsSupported(KernelLevel.Avx2)) yield return DotBf16.Order.Avx2;
        if (Kernels.IsSupported(KernelLevel.Avx512)) yield return DotBf16.Order.Avx512;
        if (Kernels.IsSupported(KernelLevel.Avx512)) yield return DotBf16.Order.Avx512Bf16; // emulated: plain float adds
    }

    private static ushort[] Bf16(float[] f)
    {
        var h = new ushort[f.Length];
        HalfConversions.Fp32ToBf16(f, h);
        return h;
    }

    private static float AbsDot(ushort[] x, ushort[] y)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += Math.Abs((double)HalfConversions.Bf16ToFp32(x[i]) * HalfConversions.Bf16ToFp32(y[i]));
        return (float)s + 1e-30f;
    }
}
