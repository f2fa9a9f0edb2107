namespace LongCtx.Tensors;

/// <summary>Root-mean-square layer normalization, as ggml_rms_norm followed by ggml_mul.</summary>
public static class RmsNorm
{
    /// <summary>y = x / sqrt(mean(x²) + eps) · weight, over one row.</summary>
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> y)
    {
        // ggml sums the float squares in double precision.
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sum += x[i] * x[i];
        }
        float mean = (float)(sum / x.Length);
        float scale = 1f / MathF.Sqrt(mean + eps);
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = x[i] * scale * weight[i];
        }
    }

    /// <summary>Normalizes each of the <c>x.Length / weight.Length</c> rows of <paramref name="x"/> in place.</summary>
    public static void ApplyRows(Span<float> x, ReadOnlySpan<float> weight, float eps)
    {
        int n = weight.Length;
        for (int off = 0; off < x.Length; off += n)
        {
            Span<float> row = x.Slice(off, n);
            Apply(row, weight, eps, row);
        }
    }
}
