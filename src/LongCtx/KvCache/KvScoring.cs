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

    /// <summary>How many entries of <paramref name="positions"/> (ascending) are at or before <paramref name="position"/>.</summary>
    public static int VisibleCount(ReadOnlySpan<int> positions, int position)
    {
        int i = positions.BinarySearch(position);
        return i >= 0 ? i + 1 : ~i;
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
