using LongCtx.Tensors;

namespace LongCtx.Train.Kernels;

/// <summary>Token embedding lookup and its backward (scatter-add into the table's gradient).</summary>
internal static unsafe class EmbeddingOp
{
    /// <summary>x[n] = table[tokens[n]].</summary>
    public static void Forward(ReadOnlySpan<float> table, int dim, ReadOnlySpan<int> tokens, Span<float> x)
    {
        int vocab = table.Length / dim;
        for (int n = 0; n < tokens.Length; n++)
        {
            int t = tokens[n];
            if ((uint)t >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(tokens), t, $"token {t} is outside the vocabulary of {vocab}");
            table.Slice(t * dim, dim).CopyTo(x.Slice(n * dim, dim));
        }
    }

    /// <summary>dtable[tokens[n]] += dx[n]; columns are split over threads, tokens summed in order.</summary>
    public static void Backward(ReadOnlySpan<float> dx, int dim, ReadOnlySpan<int> tokens, Span<float> dtable, WorkerPool pool)
    {
        fixed (float* pdx = dx, pdt = dtable)
        fixed (int* pt = tokens)
        {
            pool.For((dim + 15) / 16, new Work { DX = pdx, DT = pdt, T = pt, N = tokens.Length, D = dim });
        }
    }

    private struct Work : IParallelWork
    {
        public float* DX, DT;
        public int* T;
        public int N, D;

        public readonly void Execute(int start, int end)
        {
            int c0 = start * 16, c1 = Math.Min(D, end * 16);
            for (int n = 0; n < N; n++)
            {
                float* src = DX + (long)n * D, dst = DT + (long)T[n] * D;
                for (int c = c0; c < c1; c++) dst[c] += src[c];
            }
        }
    }
}
