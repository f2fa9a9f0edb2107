using LongCtx.Attention;
using LongCtx.Reference;
using LongCtx.Tensors;

namespace LongCtx.Tests.Models;

/// <summary>Attention's F16 dot products sum in the order of llama.cpp's AVX-512 backend.</summary>
public sealed unsafe class GgmlF16DotTests
{
    private static (float[] X, float[] Y, ushort[] Hx, ushort[] Hy) Halves(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n];
        var y = new float[n];
        var hx = new ushort[n];
        var hy = new ushort[n];
        for (int i = 0; i < n; i++)
        {
            hx[i] = HalfConversions.Fp32ToFp16((float)(rng.NextDouble() * 8 - 4));
            hy[i] = HalfConversions.Fp32ToFp16((float)rng.NextDouble());
            x[i] = HalfConversions.Fp16ToFp32(hx[i]);
            y[i] = HalfConversions.Fp16ToFp32(hy[i]);
        }
        return (x, y, hx, hy);
    }

    [Theory]
    [InlineData(64, 1)]
    [InlineData(128, 2)]
    [InlineData(256, 4)]
    [InlineData(512, 5)]
    // Lengths that are not a multiple of 64 are left out on purpose: the shipped skylakex build
    // returns only the SIMD part (its leftovers are dropped), unlike the source's leftover loop,
    // which we follow. Attention lengths in llama.cpp (head dims 64/128, 256-cell KV views) are
    // multiples of 64.
    public void VecDotIsBitExactWithGgmlAvx512(int n, int seed)
    {
        if (!GgmlF16Dot.Available)
        {
            return; // llama.cpp would not run its AVX-512 build on this CPU either
        }
        var (x, y, hx, hy) = Halves(n, seed);
        float expected;
        fixed (ushort* px = hx, py = hy)
        {
            GgmlNative.ggml_vec_dot_f16_avx512(n, &expected, 0, px, 0, py, 0, 1);
        }
        Assert.Equal(expected, GgmlF16Dot.VecDot(x, y));
        Assert.Equal(expected, GgmlF16Dot.Dot(x, y, batched: false));
    }

    [Fact]
    public void TinyBlasOrderIsOneAccumulator()
    {
        if (!GgmlF16Dot.Available)
        {
            return;
        }
        var (x, y, _, _) = Halves(256, 9);
        // the same sum done lane by lane in the kernel's order
        var lanes = new float[16];
        for (int l = 0; l < 256; l += 16)
        {
            for (int k = 0; k < 16; k++)
            {
                lanes[k] = MathF.FusedMultiplyAdd(x[l + k], y[l + k], lanes[k]);
            }
        }
        float a = lanes[0] + lanes[8], b = lanes[1] + lanes[9], c = lanes[2] + lanes[10], d = lanes[3] + lanes[11];
        float e = lanes[4] + lanes[12], f = lanes[5] + lanes[13], g = lanes[6] + lanes[14], h = lanes[7] + lanes[15];
        float ae = a + e, bf = b + f, cg = c + g, dh = d + h;
        float expected = (ae + cg) + (bf + dh);
        Assert.Equal(expected, GgmlF16Dot.TinyBlas(x, y));
        Assert.Equal(expected, GgmlF16Dot.Dot(x, y, batched: true));
    }
}
