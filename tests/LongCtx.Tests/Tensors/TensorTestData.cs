namespace LongCtx.Tests.Tensors;

/// <summary>Seeded random inputs shared by the Tensors tests.</summary>
internal static class TensorTestData
{
    /// <summary>Gaussian-ish values with per-row scale changes, some exact zeros and a zero block, so that edge cases occur.</summary>
    public static float[] Floats(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u = rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5;
            x[i] = (float)(u * scale * (1 + (i / 256) % 3));
            if (rng.Next(64) == 0) x[i] = 0;
        }
        if (n >= 512)
        {
            Array.Clear(x, 256, 32); // one all-zero sub-block
        }
        return x;
    }
}
