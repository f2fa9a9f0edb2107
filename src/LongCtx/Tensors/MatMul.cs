using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LongCtx.Tensors;

/// <summary>
/// y = W·x for a weight matrix in ggml layout, as llama.cpp's CPU mul_mat does it: activations are
/// first converted to the weight type's vec_dot_type (<see cref="ActivationQuantize"/>), then each
/// output is one vec_dot of a weight row with an activation row.
/// </summary>
public static class MatMul
{
    // Weight rows per work item; for prefill a tile is read from memory once and reused for every token.
    private const int RowsPerTile = 16;

    /// <summary>
    /// Computes y[t·rows + r] = dot(weight row r, x[t·cols .. t·cols+cols)) for t in [0, n).
    /// </summary>
    /// <param name="weightType">A supported type (<see cref="GgmlTypeInfo.IsSupported"/>).</param>
    /// <param name="weights"><paramref name="rows"/> contiguous rows of RowSize(type, cols) bytes.</param>
    /// <param name="rows">Output features.</param>
    /// <param name="cols">Input features; a multiple of the type's block size.</param>
    /// <param name="x">n·cols activations, token-major.</param>
    /// <param name="n">Tokens.</param>
    /// <param name="y">n·rows outputs, token-major.</param>
    /// <param name="pool">Threads to split the weight rows over.</param>
    /// <param name="scratch">Reused buffer for the converted activations.</param>
    /// <exception cref="ArgumentException">Unsupported type, bad cols, or spans too short.</exception>
    public static unsafe void Compute(GgmlType weightType, byte* weights, int rows, int cols, ReadOnlySpan<float> x, int n,
        Span<float> y, WorkerPool pool, MatMulScratch scratch)
    {
        GgmlType actType = ActivationQuantize.VecDotType(weightType);
        long rowBytes = GgmlTypeInfo.RowSize(weightType, cols);
        long actRowBytes = GgmlTypeInfo.RowSize(actType, cols);
        if (x.Length < (long)n * cols) throw new ArgumentException($"x holds {x.Length} values, need {n}·{cols}", nameof(x));
        if (y.Length < (long)n * rows) throw new ArgumentException($"y holds {y.Length} values, need {n}·{rows}", nameof(y));
        if (rows <= 0 || n <= 0) return;

        byte* act = scratch.Get(actRowBytes * n, out byte[] keepAlive);
        for (int t = 0; t < n; t++)
        {
            ActivationQuantize.Row(actType, x.Slice(t * cols, cols), new Span<byte>(act + t * actRowBytes, (int)actRowBytes));
        }
        fixed (float* py = y)
        {
            var work = new Work
            {
                Dot = Kernel(weightType),
                Weights = weights,
                Act = act,
                Y = py,
                Rows = rows,
                Cols = cols,
                N = n,
                RowBytes = rowBytes,
                ActRowBytes = actRowBytes,
            };
            pool.For((rows + RowsPerTile - 1) / RowsPerTile, work);
        }
        GC.KeepAlive(keepAlive);
    }

    /// <summary>Span overload of <see cref="Compute(GgmlType, byte*, int, int, ReadOnlySpan{float}, int, Span{float}, WorkerPool, MatMulScratch)"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="weights"/> is shorter than rows·RowSize(type, cols), or as the pointer overload.</exception>
    public static unsafe void Compute(GgmlType weightType, ReadOnlySpan<byte> weights, int rows, int cols, ReadOnlySpan<float> x, int n,
        Span<float> y, WorkerPool pool, MatMulScratch scratch)
    {
        long need = GgmlTypeInfo.RowSize(weightType, cols) * rows;
        if (weights.Length < need) throw new ArgumentException($"weights hold {weights.Length} bytes, need {need}", nameof(weights));
        fixed (byte* w = weights)
        {
            Compute(weightType, w, rows, cols, x, n, y, pool, scratch);
        }
    }

    /// <summary>The dot kernel of a weight type against its vec_dot_type (SIMD where the CPU has it).</summary>
    internal static unsafe delegate*<byte*, byte*, int, float> Kernel(GgmlType weightType) => weightType switch
    {
        GgmlType.F32 => &DotFloat.F32,
        GgmlType.F16 => &DotFloat.F16,
        GgmlType.BF16 => &DotFloat.BF16,
        GgmlType.Q8_0 => &DotQ8.Q8_0,
        GgmlType.Q4_0 => &DotQ8.Q4_0,
        GgmlType.Q4_K => &DotK.Q4_K,
        GgmlType.Q5_K => &DotK.Q5_K,
        GgmlType.Q6_K => &DotK.Q6_K,
        _ => throw new ArgumentException($"no matmul for {GgmlTypeInfo.Name(weightType)} weights", nameof(weightType)),
    };

    [StructLayout(LayoutKind.Auto)]
    private unsafe struct Work : IParallelWork
    {
        public delegate*<byte*, byte*, int, float> Dot;
        public byte* Weights, Act;
        public float* Y;
        public int Rows, Cols, N;
        public long RowBytes, ActRowBytes;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            int r0 = start * RowsPerTile;
            int r1 = Math.Min(Rows, end * RowsPerTile);
            for (int tile = r0; tile < r1; tile += RowsPerTile)
            {
                int tileEnd = Math.Min(r1, tile + RowsPerTile);
                // Token loop inside the tile loop: the tile's weight rows stay in cache across tokens.
                for (int t = 0; t < N; t++)
                {
                    byte* a = Act + t * ActRowBytes;
                    float* yt = Y + (long)t * Rows;
                    for (int r = tile; r < tileEnd; r++)
                    {
                        yt[r] = Dot(Weights + r * RowBytes, a, Cols);
                    }
                }
            }
        }
    }
}
