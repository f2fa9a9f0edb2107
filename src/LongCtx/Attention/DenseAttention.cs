using System.Numerics.Tensors;
using LongCtx.KvCache;

namespace LongCtx.Attention;

/// <summary>
/// Causal scaled dot-product attention of one query token over cached positions [0, count),
/// computed plainly: it is the specification the tiled and sparse kernels are tested against.
/// With an F16 cache it rounds the query and the softmax weights to F16 before the products,
/// as llama.cpp's CPU path does when it multiplies by F16 K and V.
/// </summary>
public static class DenseAttention
{
    [ThreadStatic] private static float[]? t_scores;
    [ThreadStatic] private static float[]? t_row;

    /// <summary>Computes the output of one query head.</summary>
    /// <param name="q">The query head (key dim).</param>
    /// <param name="cache">The cache holding this sequence.</param>
    /// <param name="layer">Layer index.</param>
    /// <param name="kvHead">The KV head this query head reads.</param>
    /// <param name="count">Number of visible positions (the query's position + 1).</param>
    /// <param name="scale">Score scale, 1/sqrt(head dim).</param>
    /// <param name="output">The output head (value dim).</param>
    /// <param name="batched">Whether this token is evaluated in a batch of several (llama.cpp sums in another order then).</param>
    public static void Head(ReadOnlySpan<float> q, KvCache.KvCache cache, int layer, int kvHead, int count, float scale, Span<float> output, bool batched = false)
    {
        if (cache.Type == KvCacheType.F16 && GgmlF16Dot.Available)
        {
            HeadF16AsGgml(q, cache, layer, kvHead, count, scale, output, batched);
            return;
        }
        int kd = cache.KeyDim, vd = cache.ValueDim;
        float[] scores = Grow(ref t_scores, count);
        float[] row = Grow(ref t_row, 2 * Math.Max(kd, vd));
        Span<float> qr = row.AsSpan(0, kd), tmp = row.AsSpan(Math.Max(kd, vd), Math.Max(kd, vd));

        if (cache.Type == KvCacheType.F16)
        {
            for (int i = 0; i < kd; i++)
            {
                qr[i] = (float)(Half)q[i];
            }
            ReadOnlySpan<Half> keys = cache.KeysF16(layer, kvHead, count);
            for (int j = 0; j < count; j++)
            {
                HalfConvert(keys.Slice(j * kd, kd), tmp[..kd]);
                scores[j] = TensorPrimitives.Dot(qr, tmp[..kd]);
            }
        }
        else
        {
            ReadOnlySpan<float> keys = cache.KeysF32(layer, kvHead, count);
            for (int j = 0; j < count; j++)
            {
                scores[j] = TensorPrimitives.Dot(q, keys.Slice(j * kd, kd));
            }
        }

        Softmax(scores.AsSpan(0, count), scale);

        output[..vd].Clear();
        if (cache.Type == KvCacheType.F16)
        {
            ReadOnlySpan<Half> values = cache.ValuesF16(layer, kvHead, count);
            for (int j = 0; j < count; j++)
            {
                HalfConvert(values.Slice(j * vd, vd), tmp[..vd]);
                TensorPrimitives.MultiplyAdd(tmp[..vd], (float)(Half)scores[j], output[..vd], output[..vd]);
            }
        }
        else
        {
            ReadOnlySpan<float> values = cache.ValuesF32(layer, kvHead, count);
            for (int j = 0; j < count; j++)
            {
                TensorPrimitives.MultiplyAdd(values.Slice(j * vd, vd), scores[j], output[..vd], output[..vd]);
            }
        }
    }

    /// <summary>
    /// The F16-cache path with llama.cpp's roundings and summation orders on AVX-512: Q and the
    /// softmax weights rounded to F16, rows padded with masked (−∞ → 0) positions to a multiple
    /// of 64 as llama.cpp's 256-cell KV view is, and each dot product in <see cref="GgmlF16Dot"/>'s order.
    /// </summary>
    private static void HeadF16AsGgml(ReadOnlySpan<float> q, KvCache.KvCache cache, int layer, int kvHead, int count, float scale, Span<float> output, bool batched)
    {
        int kd = cache.KeyDim, vd = cache.ValueDim, padded = (count + 63) & ~63;
        float[] scores = Grow(ref t_scores, padded);
        float[] row = Grow(ref t_row, kd + Math.Max(kd, padded));
        Span<float> qr = row.AsSpan(0, kd), tmp = row.AsSpan(kd, Math.Max(kd, padded));

        // K·Q with Q converted to F16 (the F16 kernel's activation type)
        for (int i = 0; i < kd; i++)
        {
            qr[i] = (float)(Half)q[i];
        }
        ReadOnlySpan<Half> keys = cache.KeysF16(layer, kvHead, count);
        for (int j = 0; j < count; j++)
        {
            HalfConvert(keys.Slice(j * kd, kd), tmp[..kd]);
            scores[j] = GgmlF16Dot.Dot(qr, tmp[..kd], batched);
        }
        Span<float> p = scores.AsSpan(0, padded);
        p[count..].Fill(float.NegativeInfinity);
        Softmax(p, scale);
        for (int j = 0; j < count; j++)
        {
            p[j] = (float)(Half)p[j]; // softmax weights converted to F16 for V·softmax
        }

        // V·softmax: output dimension i is the dot of V's column i with the weights
        ReadOnlySpan<Half> values = cache.ValuesF16(layer, kvHead, count);
        Span<float> column = tmp[..padded];
        column[count..].Clear();
        for (int i = 0; i < vd; i++)
        {
            for (int j = 0; j < count; j++)
            {
                column[j] = (float)values[j * vd + i];
            }
            output[i] = GgmlF16Dot.Dot(column, p, batched);
        }
    }

    /// <summary>In-place softmax of scale·x with ggml's exp and summation (ggml_soft_max).</summary>
    public static void Softmax(Span<float> x, float scale)
    {
        float max = float.NegativeInfinity;
        for (int i = 0; i < x.Length; i++)
        {
            x[i] *= scale;
            max = MathF.Max(max, x[i]);
        }
        double sum = Tensors.GgmlExp.ExpMinusMax(x, max);
        float inv = (float)(1.0 / sum);
        for (int i = 0; i < x.Length; i++)
        {
            x[i] *= inv;
        }
    }

    private static void HalfConvert(ReadOnlySpan<Half> src, Span<float> dst) => TensorPrimitives.ConvertToSingle(src, dst);

    private static float[] Grow(ref float[]? buffer, int length)
    {
        if (buffer == null || buffer.Length < length)
        {
            buffer = new float[Math.Max(length, (buffer?.Length ?? 0) * 2)];
        }
        return buffer;
    }
}
