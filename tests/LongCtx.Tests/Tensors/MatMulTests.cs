using LongCtx.Tensors;

namespace LongCtx.Tests.Tensors;

/// <summary>MatMul against a naive dequantize-then-dot reference, the worker pool, and zero allocation.</summary>
public class MatMulTests
{
    public static TheoryData<GgmlType, int, int> Cases()
    {
        var data = new TheoryData<GgmlType, int, int>();
        foreach (GgmlType t in new[] { GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K })
        {
            foreach (int n in new[] { 1, 5 })
            {
                foreach (int threads in new[] { 1, 2 })
                {
                    data.Add(t, n, threads);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesDequantizeThenDot(GgmlType type, int n, int threads)
    {
        const int rows = 37;
        int cols = GgmlTypeInfo.BlockSize(type) == 256 ? 512 : 96;
        GgmlType act = ActivationQuantize.VecDotType(type);
        int rowBytes = (int)GgmlTypeInfo.RowSize(type, cols);
        var w = new byte[rowBytes * rows];
        for (int r = 0; r < rows; r++)
        {
            Quantize.Row(type, TensorTestData.Floats(cols, 50 + r), w.AsSpan(r * rowBytes, rowBytes));
        }
        float[] x = TensorTestData.Floats(n * cols, 9, scale: 2f);
        var y = new float[n * rows];
        using var pool = new WorkerPool(threads);
        MatMul.Compute(type, w, rows, cols, x, n, y, pool, new MatMulScratch());

        var wd = new float[cols];
        var ad = new float[cols];
        var aq = new byte[GgmlTypeInfo.RowSize(act, cols)];
        for (int t = 0; t < n; t++)
        {
            // The reference sees the activations as the kernel does: converted to the vec_dot_type.
            ActivationQuantize.Row(act, x.AsSpan(t * cols, cols), aq);
            Dequantize.Row(act, aq, ad);
            for (int r = 0; r < rows; r++)
            {
                Dequantize.Row(type, w.AsSpan(r * rowBytes, rowBytes), wd);
                double s = 0, mag = 0;
                for (int i = 0; i < cols; i++)
                {
                    s += (double)wd[i] * ad[i];
                    mag += Math.Abs((double)wd[i] * ad[i]);
                }
                Assert.True(Math.Abs(y[t * rows + r] - s) <= 1e-5 * mag + 1e-30, $"{type} t={t} r={r}: {y[t * rows + r]} vs {s}");
            }
        }
    }

    [Fact]
    public void RepeatedComputeAllocatesNothing()
    {
        const int rows = 64, cols = 512, n = 3;
        using var pool = new WorkerPool(2);
        var scratch = new MatMulScratch();
        float[] x = TensorTestData.Floats(n * cols, 1);
        var y = new float[n * rows];
        var weights = new Dictionary<GgmlType, byte[]>();
        GgmlType[] types = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K];
        foreach (GgmlType t in types)
        {
            var w = new byte[GgmlTypeInfo.RowSize(t, cols) * rows];
            for (int r = 0; r < rows; r++) Quantize.Row(t, TensorTestData.Floats(cols, r), w.AsSpan((int)(r * GgmlTypeInfo.RowSize(t, cols))));
            weights[t] = w;
            MatMul.Compute(t, w, rows, cols, x, n, y, pool, scratch); // warm-up: JIT, scratch growth, runner slot
        }
        // More warm-up so that tiered JIT recompilation (which may allocate) is behind us.
        for (int i = 0; i < 200; i++)
        {
            foreach (GgmlType t in types) MatMul.Compute(t, weights[t], rows, cols, x, n, y, pool, scratch);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            foreach (GgmlType t in types)
            {
                MatMul.Compute(t, weights[t], rows, cols, x, n, y, pool, scratch);
            }
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void PoolCoversEveryIndexOnceAndPropagatesErrors()
    {
        using var pool = new WorkerPool(3);
        var hits = new int[1001];
        for (int round = 0; round < 200; round++)
        {
            pool.For(hits.Length, new Count(hits));
        }
        Assert.All(hits, h => Assert.Equal(200, h));
        Assert.Throws<InvalidOperationException>(() => pool.For(10, new Throw()));
        pool.For(hits.Length, new Count(hits)); // still usable afterwards
        Assert.Equal(201, hits[1000]);
    }

    private readonly struct Count(int[] hits) : IParallelWork
    {
        public void Execute(int start, int end)
        {
            for (int i = start; i < end; i++) Interlocked.Increment(ref hits[i]);
        }
    }

    private readonly struct Throw : IParallelWork
    {
        public void Execute(int start, int end) => throw new InvalidOperationException("boom");
    }

    [Fact]
    public void RejectsShortBuffersAndUnsupportedTypes()
    {
        using var pool = new WorkerPool(1);
        var scratch = new MatMulScratch();
        Assert.Throws<ArgumentException>(() => MatMul.Compute(GgmlType.Q8_0, new byte[34], 2, 32, new float[32], 1, new float[2], pool, scratch));
        Assert.Throws<ArgumentException>(() => MatMul.Compute(GgmlType.Q2_K, new byte[1000], 1, 256, new float[256], 1, new float[1], pool, scratch));
        Assert.Throws<ArgumentException>(() => MatMul.Compute(GgmlType.Q8_0, new byte[68], 2, 32, new float[31], 1, new float[2], pool, scratch));
    }
}
