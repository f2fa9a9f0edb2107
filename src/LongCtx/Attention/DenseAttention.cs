using System.Numerics.Tensors;
using LongCtx.KvCache;

namespace LongCtx.Attention;

/// <summary>
/// Causal scaled dot-product attention of one query token over the first entries of one KV head,
/// computed plainly: it is the specification the tiled and sparse kernels are tested against.
/// With an F16 cache it rounds the query and the softmax weights to F16 before the products,
/// as llama.cpp's CPU path does when it multiplies by F16 K and V. Heads that a method changed
/// (quantized entries, pruned key channels) and selected entries go through one general loop.
/// </summary>
public static class DenseAttention
{
    [ThreadStatic] private static float[]? t_scores;
    [ThreadStatic] private static float[]? t_row;

    /// <summary>Computes the output of one query head over entries [0, <paramref name="count"/>) of <paramref name="head"/>.</summary>
    /// <param name="q">The query head (the model's key dim).</param>
    /// <param name="head">The KV head this query head reads.</param>
    /// <param name="count">Entries visible to this query (those at or before its position).</param>
    /// <param name="scale">Score scale, 1/sqrt(head dim).</param>
    /// <param name="output">The output head (value dim).</param>
    /// <param name="batched">Whether this token is evaluated in a batch of several (llama.cpp sums in another order then).</param>
    public static void Head(ReadOnlySpan<float> q, in KvHeadView head, int count, float scale, Span<float> output, bool batched = false)
    {
        if (!head.IsPlain)
        {
            General(q, head, count, default, scale, output);
        }
        else if (head.Type == KvCacheType.F16 && GgmlF16Dot.Available)
        {
            HeadF16AsGgml(q, head.KeysF16, head.ValuesF16, head.KeyDim, head.ValueDim, count, scale, output, batched);
        }
        else if (head.Type == KvCacheType.F16)
        {
            PlainF16(q, head.KeysF16, head.ValuesF16, head.KeyDim, head.ValueDim, count, scale, output);
        }
        else
        {
            PlainF32(q, head.KeysF32, head.ValuesF32, head.KeyDim, head.ValueDim, count, scale, output);
        }
    }

    /// <summary>Computes the output of one query head over the entries <paramref name="indices"/> of <paramref name="head"/> only (a selector's choice).</summary>
    public static void HeadSelected(ReadOnlySpan<float> q, in KvHeadView head, ReadOnlySpan<int> indices, float scale, Span<float> output) =>
        General(q, head, indices.Length, indices, scale, output);

    private static void PlainF16(ReadOnlySpan<float> q, ReadOnlySpan<Half> keys, ReadOnlySpan<Half> values, int kd, int vd, int count, float scale, Span<float> output)
    {
        float[] scores = Grow(ref t_scores, count);
        float[] row = Grow(ref t_row, 2 * Math.Max(kd, vd));
        Span<float> qr = row.AsSpan(0, kd), tmp = row.AsSpan(Math.Max(kd, vd), Math.Max(kd, vd));
        for (int i = 0; i < kd; i++)
        {
            qr[i] = (float)(Half)q[i];
        }
        for (int j = 0; j < count; j++)
        {
            HalfConvert(keys.Slice(j * kd, kd), tmp[..kd]);
            scores[j] = TensorPrimitives.Dot(qr, tmp[..kd]);
        }
        Softmax(scores.AsSpan(0, count), scale);
        output[..vd].Clear();
        for (int j = 0; j < count; j++)
        {
            HalfConvert(values.Slice(j * vd, vd), tmp[..vd]);
            TensorPrimitives.MultiplyAdd(tmp[..vd], (float)(Half)scores[j], output[..vd], output[..vd]);
        }
    }

    private static void PlainF32(ReadOnlySpan<float> q, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, int kd, int vd, int count, float scale, Span<float> output)
    {
        float[] scores = Grow(ref t_scores, count);
        for (int j = 0; j < count; j++)
        {
            scores[j] = TensorPrimitives.Dot(q[..kd], keys.Slice(j * kd, kd));
        }
        Softmax(scores.AsSpan(0, count), scale);
        output[..vd].Clear();
        for (int j = 0; j < count; j++)
        {
            TensorPrimitives.MultiplyAdd(values.Slice(j * vd, vd), scores[j], output[..vd], output[..vd]);
        }
    }

    /// <summary>
    /// The F16-cache path with llama.cpp's roundings and summation orders on AVX-512: Q and the
    /// softmax weights rounded to F16, rows padded with masked (−∞ → 0) positions to a multiple
    /// of 64 as llama.cpp's 256-cell KV view is, and each dot product in <see cref="GgmlF16Dot"/>'s order.
    /// </summary>
    private static void HeadF16AsGgml(ReadOnlySpan<float> q, ReadOnlySpan<Half> keys, ReadOnlySpan<Half> values, int kd, int vd, int count, float scale, Span<float> output, bool batched)
    {
        int padded = (count + 63) & ~63;
        float[] scores = Grow(ref t_scores, padded);
        float[] row = Grow(ref t_row, kd + Math.Max(kd, padded));
        Span<float> qr = row.AsSpan(0, kd), tmp = row.AsSpan(kd, Math.Max(kd, padded));

        // K·Q with Q converted to F16 (the F16 kernel's activation type)
        for (int i = 0; i < kd; i++)
        {
            qr[i] = (float)(Half)q[i];
        }
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

    /// <summary>
    /// Any head, over entries [0, n) or over <paramref name="indices"/>: keys and values decoded
    /// entry by entry (quantized or full precision), the query projected on the kept key channels.
    /// </summary>
    private static void General(ReadOnlySpan<float> q, in KvHeadView head, int n, ReadOnlySpan<int> indices, float scale, Span<float> output)
    {
        int kd = head.KeyDim, vd = head.ValueDim, w = Math.Max(q.Length, Math.Max(kd, vd));
        float[] scores = Grow(ref t_scores, n);
        float[] row = Grow(ref t_row, 2 * w);
        Span<float> qr = head.ProjectQuery(q, row.AsSpan(0, kd)), tmp = row.AsSpan(w, w);
        bool f16 = head.Type == KvCacheType.F16;
        if (f16)
        {
            for (int i = 0; i < kd; i++)
            {
                qr[i] = (float)(Half)qr[i];
            }
        }
        // The quantized prefix straight from its codes; the rest (and selected entries) entry by entry
        int quantized = indices.IsEmpty ? Math.Min(n, head.QuantizedCount) : 0;
        if (quantized > 0)
        {
            QuantizedAttention.Scores(qr, head.Quantized!, quantized, scores);
        }
        for (int m = quantized; m < n; m++)
        {
            head.ReadKey(indices.IsEmpty ? m : indices[m], tmp[..kd]);
            scores[m] = TensorPrimitives.Dot(qr, tmp[..kd]);
        }
        Softmax(scores.AsSpan(0, n), scale);
        output[..vd].Clear();
        if (quantized > 0)
        {
            QuantizedAttention.AccumulateValues(scores.AsSpan(0, quantized), head.Quantized!, output[..vd]);
        }
        for (int m = quantized; m < n; m++)
        {
            head.ReadValue(indices.IsEmpty ? m : indices[m], tmp[..vd]);
            TensorPrimitives.MultiplyAdd(tmp[..vd], f16 ? (float)(Half)scores[m] : scores[m], output[..vd], output[..vd]);
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
