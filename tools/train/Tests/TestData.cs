namespace LongCtx.Train.Tests;

/// <summary>Random inputs and the finite-difference gradient check shared by the tests.</summary>
internal static class TestData
{
    public static float[] Random(Random rng, int n, float scale = 1f)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = scale * (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>Σ a·b in double: the scalar loss L = Σ y·R whose gradient with respect to y is R.</summary>
    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double rtol, double atol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0;
        for (int i = 0; i < expected.Length; i++) scale = Math.Max(scale, Math.Abs(expected[i]));
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs(expected[i] - actual[i]);
            Assert.True(diff <= atol * Math.Max(1, scale) + rtol * Math.Abs(expected[i]),
                $"{what}[{i}]: expected {expected[i]:G9}, got {actual[i]:G9} (|Δ| {diff:G3}, max |expected| {scale:G3})");
        }
    }

    /// <summary>
    /// Central differences of <paramref name="loss"/> at <paramref name="samples"/> random
    /// coordinates of <paramref name="x"/> (perturbed in place and restored) against
    /// <paramref name="analytic"/>. Tolerances allow for the fp32 forward.
    /// </summary>
    public static void GradCheck(string name, float[] x, Func<double> loss, ReadOnlySpan<float> analytic, Random rng,
        int samples = 24, float h = 1e-2f, double rtol = 2e-2, double atol = 2e-3)
    {
        Assert.Equal(x.Length, analytic.Length);
        double gmax = 0;
        for (int i = 0; i < analytic.Length; i++) gmax = Math.Max(gmax, Math.Abs(analytic[i]));
        Assert.True(gmax > 0, $"{name}: the analytic gradient is all zero");
        for (int s = 0; s < Math.Min(samples, x.Length); s++)
        {
            int i = samples >= x.Length ? s : rng.Next(x.Length);
            float saved = x[i];
            x[i] = saved + h;
            double up = loss();
            float hiStep = x[i] - saved;
            x[i] = saved - h;
            double down = loss();
            float loStep = saved - x[i];
            x[i] = saved;
            double numeric = (up - down) / ((double)hiStep + loStep);
            double diff = Math.Abs(numeric - analytic[i]);
            Assert.True(diff <= atol * Math.Max(1, gmax) + rtol * Math.Abs(numeric),
                $"{name}[{i}]: finite difference {numeric:G6}, backward {analytic[i]:G6} (|Δ| {diff:G3}, max |grad| {gmax:G3})");
        }
    }
}
