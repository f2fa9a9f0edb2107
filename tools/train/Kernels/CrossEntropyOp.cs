using LongCtx.Tensors;

namespace LongCtx.Train.Kernels;

/// <summary>
/// Softmax cross-entropy over logit rows, fused with its gradient: each row of logits is replaced
/// by scale·(softmax − onehot(target)), and the row's loss −log softmax[target] is returned.
/// </summary>
internal static unsafe class CrossEntropyOp
{
    /// <summary>
    /// For each row r of <paramref name="logits"/> [rows, vocab]: loss[r] = logsumexp − z[target];
    /// the row becomes scale[r]·(softmax − onehot). Returns Σ weight·loss in row order (deterministic).
    /// </summary>
    public static double ForwardBackward(Span<float> logits, int vocab, ReadOnlySpan<int> targets, ReadOnlySpan<float> scale,
        Span<float> losses, WorkerPool pool)
    {
        int rows = targets.Length;
        if (logits.Length < rows * vocab || scale.Length < rows || losses.Length < rows) throw new ArgumentException("cross-entropy buffers too small");
        foreach (int t in targets)
        {
            if ((uint)t >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(targets), t, $"target token {t} is outside the vocabulary of {vocab}");
        }
        fixed (float* z = logits, s = scale, l = losses)
        fixed (int* t = targets)
        {
            pool.For(rows, new Work { Z = z, T = t, S = s, L = l, V = vocab });
        }
        double sum = 0;
        for (int r = 0; r < rows; r++) sum += (double)losses[r] * scale[r];
        return sum;
    }

    private struct Work : IParallelWork
    {
        public float* Z, S, L;
        public int* T;
        public int V;

        public readonly void Execute(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                float* z = Z + (long)r * V;
                float max = Softmax.Max(z, V);
                float target = z[T[r]];
                float sum = Softmax.ExpShift(z, V, max);
                L[r] = MathF.Log(sum) + max - target;
                Softmax.Scale(z, V, S[r] / sum);
                z[T[r]] -= S[r];
            }
        }
    }
}
