using LongCtx.Reference;
using LongCtx.Tensors;

namespace LongCtx.Tests.Tensors;

/// <summary>SwiGLU and the softmax exponentials are bit-exact with ggml's AVX2 build; every width agrees closely with libm.</summary>
public sealed unsafe class GgmlExpTests
{
    private static float[] Inputs(int n, int seed, float scale)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = scale * (float)(rng.NextDouble() * 2 - 1);
        }
        if (n > 4)
        {
            // the edges of ggml_v_expf's range: overflow to inf, flush to zero, the |n| > 126 branch
            x[0] = 100f;
            x[1] = -110f;
            x[2] = 88f;
            x[3] = -90f;
        }
        return x;
    }

    [Theory]
    [InlineData(8, 1)]
    [InlineData(4864, 2)]
    [InlineData(1000, 3)] // a scalar tail
    public void SwiGluIsBitExactWithGgmlAvx2(int n, int seed)
    {
        if (GgmlExp.BestWidth < 8)
        {
            return; // no AVX2+FMA on this CPU: ggml's AVX2 build cannot run here either
        }
        float[] gate = Inputs(n, seed, 12f), up = Inputs(n, seed + 100, 3f);
        var expected = new float[n];
        fixed (float* y = expected, x = gate, g = up)
        {
            GgmlNative.ggml_vec_swiglu_f32(n, y, x, g);
        }
        float[] ours = (float[])gate.Clone();
        GgmlExp.SwiGlu(ours, up, width: 8);
        Assert.Equal(expected, ours);
    }

    [Theory]
    [InlineData(64, 4)]
    [InlineData(257, 5)]
    public void SoftmaxExponentialsAreBitExactWithGgmlAvx2(int n, int seed)
    {
        if (GgmlExp.BestWidth < 8)
        {
            return; // no AVX2+FMA on this CPU: ggml's AVX2 build cannot run here either
        }
        float[] x = Inputs(n, seed, 20f);
        float max = x.Max();
        var expected = new float[n];
        double expectedSum;
        fixed (float* y = expected, px = x)
        {
            expectedSum = GgmlNative.ggml_vec_soft_max_f32(n, y, px, max);
        }
        float[] ours = (float[])x.Clone();
        double sum = GgmlExp.ExpMinusMax(ours, max, width: 8);
        Assert.Equal(expected, ours);
        Assert.Equal(expectedSum, sum);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(8)]
    [InlineData(1)]
    public void EveryWidthIsWithinTwoUlpOfLibm(int width)
    {
        if (width > GgmlExp.BestWidth)
        {
            return; // this CPU lacks that vector width
        }
        float[] x = Inputs(4096, 9, 80f);
        float max = x.Max();
        float[] ours = (float[])x.Clone();
        GgmlExp.ExpMinusMax(ours, max, width);
        for (int i = 0; i < x.Length; i++)
        {
            float exact = MathF.Exp(x[i] - max);
            Assert.True(Math.Abs(ours[i] - exact) <= 2 * Math.Max(MathF.BitIncrement(exact) - exact, float.Epsilon),
                $"exp({x[i] - max}) = {ours[i]}, libm {exact}");
        }
    }
}
