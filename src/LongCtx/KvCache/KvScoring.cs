using System.Numerics.Tensors;
using LongCtx.Attention;

namespace LongCtx.KvCache;

/// <summary>Attention weights of observed queries over cached entries: the shared arithmetic of the attention-based presses.</summary>
public static class KvScoring
{
    [ThreadStatic] private static float[]? t_scores;
    [ThreadStatic] private static float[]? t_row;

    /// <summary>
    /// Softmax weights of query <paramref name="q"/> (a full query head) over entries [0, <paramref name="count"/>)
    /// of <paramref name="head"/>, written to <paramref name="weights"/>[0, count).
    /// </summary>
    public static void Weights(ReadOnlySpan<float> q, in KvHeadView head, int count, float scale, Span<float> weights)
    {
        int kd = head.KeyDim, w = Math.Max(q.Length, kd);
        float[] row = Grow(ref t_row, 2 * w);
        Span<float> qr = head.ProjectQuery(q, row.AsSpan(0, kd)), key = row.AsSpan(w, kd);
        for (int j = 0; j < count; j++)
        {
            head.ReadKey(j, key);
            weights[j] = TensorPrimitives.Dot(qr, key);
        }
        DenseAttention.Softmax(weights[..count], scale);
    }

    /// <summary>Adds the softmax weights of <paramref name="q"/> over entries [0, count) to <paramref name="sum"/>.</summary>
    public static void AddAttention(ReadOnlySpan<float> q, in KvHeadView head, int count, float scale, Span<float> sum)
    {
        float[] w = Grow(ref t_scores, count);
        Weights(q, head, count, scale, w);
        TensorPrimitives.Add(sum[..count], w.AsSpan(0, count), sum[..count]);
    }

    /// <summary>
    /// The mean softmax weight each entry of one head receives from the last <paramref name="window"/>
    /// recorded queries of the query heads of its group (each query sees the entries at or before its
    /// position), written to <paramref name="mean"/>[0, Count). Returns the number of entries older
    /// than the window (SnapKV's observation window, TOVA's last token).
    /// </summary>
    public static int WindowAttention(KvPressContext context, KvObservations observed, int layer, int kvHead, int window, Span<float> mean)
    {
        KvHeadView head = context.Cache.Head(layer, kvHead);
        int n = head.Count, kd = head.KeyDim, hd = context.Config.HeadDim, group = context.Config.KvGroup;
        int w = Math.Min(window, observed.QueryCount), first = observed.QueryCount - w;
        ReadOnlySpan<int> positions = head.Positions;
        int older = VisibleCount(positions, observed.QueryPosition(first) - 1);

        // Keys decoded once, then one dot product per (query, key)
        var keys = new float[n * kd];
        for (int j = 0; j < n; j++)
        {
            head.ReadKey(j, keys.AsSpan(j * kd, kd));
        }
        var weights = new float[n];
        Span<float> qr = stackalloc float[Math.Max(hd, kd)];
        mean[..n].Clear();
        for (int i = first; i < observed.QueryCount; i++)
        {
            int visible = VisibleCount(positions, observed.QueryPosition(i));
            ReadOnlySpan<float> token = observed.Queries(layer, i);
            for (int g = 0; g < group; g++)
            {
                Span<float> q = head.ProjectQuery(token.Slice((kvHead * group + g) * hd, hd), qr);
                for (int j = 0; j < visible; j++)
                {
                    weights[j] = TensorPrimitives.Dot(q, keys.AsSpan(j * kd, kd));
                }
                DenseAttention.Softmax(weights.AsSpan(0, visible), context.Scale);
                TensorPrimitives.Add(mean[..visible], weights.AsSpan(0, visible), mean[..visible]);
            }
        }
        TensorPrimitives.Multiply(mean[..n], 1f / (w * group), mean[..n]);
        return older;
    }

    /// <summary>How many entries of <paramref name="positions"/> (ascending) are at or before <paramref name="position"/>.</summary>
    public static int VisibleCount(ReadOnlySpan<int> positions, int position)
    {
        int i = positions.BinarySearch(position);
        return i >= 0 ? i + 1 : ~i;
    }

    /// <summary>
    /// Writes to <paramref name="top"/> the indices of the <paramref name="k"/> highest scores in
    /// ascending order; ties prefer the later index, NaN ranks lowest. <paramref name="scratch"/>
    /// holds at least scores.Length keys, so that per-step callers allocate nothing.
    /// </summary>
    public static void TopIndices(ReadOnlySpan<float> scores, int k, Span<ulong> scratch, Span<int> top)
    {
        int n = scores.Length;
        Span<ulong> keys = scratch[..n];
        for (int j = 0; j < n; j++)
        {
            keys[j] = ((ulong)Ordered(scores[j]) << 32) | (uint)j;
        }
        keys.Sort();
        for (int i = 0; i < k; i++)
        {
            top[i] = (int)(uint)keys[n - k + i];
        }
        top[..k].Sort();
    }

    /// <summary>An unsigned key that orders floats as their values (NaN first).</summary>
    private static uint Ordered(float f)
    {
        if (float.IsNaN(f))
        {
            return 0;
        }
        int b = BitConverter.SingleToInt32Bits(f);
        return b < 0 ? ~(uint)b : (uint)b | 0x8000_0000u;
    }

    internal static T[] Grow<T>(ref T[]? buffer, int length)
    {
        if (buffer == null || buffer.Length < length)
        {
            buffer = new T[Math.Max(length, (buffer?.Length ?? 0) * 5 / 4)];
        }
        return buffer;
    }

    internal static float[] Grow(ref float[]? buffer, int length)
    {
        if (buffer == null || buffer.Length < length)
        {
            buffer = new float[Math.Max(length, (buffer?.Length ?? 0) * 2)];
        }
        return buffer;
    }
}
