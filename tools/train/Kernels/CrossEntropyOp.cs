using LongCtx.Tensors;

namespace LongCtx.Train.Kernels;

/// <summary>
/// Softmax cross-entropy over logit rows, fused with its gradient: each row of logits is replaced
/// by scale·(softmax − onehot(target)), and the row's loss −log softmax[target] is returned.
/// </summary>
internal static unsafe class CrossEntropyOp
{
    /// <summary>
    /// For each row r of <paramref name="logits"/> [rows, vocab]: losses[r] = logsumexp − z[target],
    /// hits[r] = whether the target has the largest logit (greedy decoding would emit it); the row
    /// becomes scale[r]·(softmax − onehot). Returns Σ scale·loss in row order (deterministic).
    /// <paramref name="hits"/> may be empty.
    /// </summary>
    public static double ForwardBackward(Span<float> logits, int vocab, ReadOnlySpan<int> targets, ReadOnlySpan<float> scale,
        Span<float> losses, Span<bool> hits, WorkerPool pool)
    {
        int rows = targets.Length;
        if (logits.Length < rows * vocab || scale.Length < rows || losses.Length < rows || (!hits.IsEmpty && hits.Length < rows))
            throw new ArgumentException("cross-entropy buffers too small");
        foreach (int t in targets)
        {
            if ((uint)t >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(targets), t, $"target token {t} is outside the vocabulary of {vocab}");
        }
        fixed (float* z = logits, s = scale, l = losses)
        fixed (int* t = targets)
        fixed (bool* h = hits)
        {
            pool.For(rows, new Work { Z = z, T = t, S = s, L = l, H = h, V = vocab });
        }
        double sum = 0;
        for (int r = 0; r < rows; r++) sum += (double)losses[r] * scale[r];
        return sum;
    }

    /// <summary>As the overload with hits, without them.</summary>
    public static double ForwardBackward(Span<float> logits, int vocab, ReadOnlySpan<int> targets, ReadOnlySpan<float> scale,
        Span<float> losses, WorkerPool pool) => ForwardBackward(logits, vocab, targets, scale, losses, [], pool);

    private struct Work : IParallelWork
    {
        public float* Z, S, L;
        public int* T;
        public bool* H;
        public int V;

        public readonly void Execute(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                float* z = Z + (long)r * V;
                float max = Softmax.Max(z, V);
                float target = z[T[r]];
                if (H != null) H[r] = target >= max;
                float sum = Softmax.ExpShift(z, V, max);
                L[r] = MathF.Log(sum) + max - target;
                Softmax.Scale(z, V, S[r] / sum);
                z[T[r]] -= S[r];
            }
        }
    }
}
