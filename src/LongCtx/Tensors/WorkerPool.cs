namespace LongCtx.Tensors;

/// <summary>TEMPORARY: work split into ranges.</summary>
public interface IParallelWork
{
    /// <summary>Runs items [start, end).</summary>
    void Execute(int start, int end);
}

/// <summary>TEMPORARY serial stand-in until the tensors branch lands.</summary>
public sealed class WorkerPool(int threads = 0) : IDisposable
{
    /// <summary>Threads.</summary>
    public int Threads { get; } = threads > 0 ? threads : Environment.ProcessorCount;

    /// <summary>Runs work over [0, count).</summary>
    public void For<T>(int count, T work) where T : IParallelWork => work.Execute(0, count);

    /// <summary>Stops the workers.</summary>
    public void Dispose() { }
}

/// <summary>TEMPORARY.</summary>
public sealed class MatMulScratch
{
    internal float[] Row = [];
}

/// <summary>TEMPORARY naive matmul until the tensors branch lands.</summary>
public static class MatMul
{
    /// <summary>y[t*rows + r] = dot(W row r, x row t).</summary>
    public static unsafe void Compute(GgmlType weightType, byte* weights, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y, WorkerPool pool, MatMulScratch scratch)
    {
        if (scratch.Row.Length < cols) scratch.Row = new float[cols];
        int rowBytes = (int)GgmlTypeInfo.RowSize(weightType, cols);
        for (int r = 0; r < rows; r++)
        {
            Dequantize.Row(weightType, new ReadOnlySpan<byte>(weights + (long)r * rowBytes, rowBytes), scratch.Row.AsSpan(0, cols));
            for (int t = 0; t < n; t++)
            {
                float s = 0;
                for (int i = 0; i < cols; i++) s += scratch.Row[i] * x[t * cols + i];
                y[t * rows + r] = s;
            }
        }
    }
}
