using LongCtx.Models;

namespace LongCtx.Tensors;

/// <summary>
/// Rotary position embedding, computed as ggml's rope does: θ_i = p · base^(-2i/n_rot) built by
/// repeated multiplication in float, divided by an optional per-frequency factor (llama3's
/// rope_freqs) and scaled by the linear position scale.
/// </summary>
public static class Rope
{
    /// <summary>Fills <paramref name="cache"/> (length n_rot) with interleaved cos/sin for position <paramref name="position"/>.</summary>
    public static void Angles(int position, int nRot, float freqBase, float freqScale, ReadOnlySpan<float> freqFactors, Span<float> cache)
    {
        float thetaScale = MathF.Pow(freqBase, -2.0f / nRot);
        float theta = position;
        for (int i0 = 0; i0 < nRot; i0 += 2)
        {
            float ff = freqFactors.IsEmpty ? 1f : freqFactors[i0 / 2];
            float t = freqScale * (theta / ff);
            cache[i0] = MathF.Cos(t);
            cache[i0 + 1] = MathF.Sin(t);
            theta *= thetaScale;
        }
    }

    /// <summary>Rotates the first n_rot dimensions of each head in <paramref name="heads"/> (n heads × headDim).</summary>
    public static void Apply(Span<float> heads, int headDim, ReadOnlySpan<float> cache, RopeStyle style)
    {
        int nRot = cache.Length;
        for (int off = 0; off < heads.Length; off += headDim)
        {
            Span<float> h = heads.Slice(off, headDim);
            if (style == RopeStyle.Normal)
            {
                // Adjacent pairs, as ggml's rope_f32 in normal mode.
                for (int i0 = 0; i0 < nRot; i0 += 2)
                {
                    float c = cache[i0], s = cache[i0 + 1];
                    float x0 = h[i0], x1 = h[i0 + 1];
                    h[i0] = x0 * c - x1 * s;
                    h[i0 + 1] = x0 * s + x1 * c;
                }
            }
            else
            {
                // NeoX pairs i with i + n_rot/2, as ggml's rope_neox.
                int half = nRot / 2;
                for (int i0 = 0; i0 < nRot; i0 += 2)
                {
                    float c = cache[i0], s = cache[i0 + 1];
                    int i = i0 / 2;
                    float x0 = h[i], x1 = h[i + half];
                    h[i] = x0 * c - x1 * s;
                    h[i + half] = x0 * s + x1 * c;
                }
            }
        }
    }
}
