using LongCtx.Tensors;
using LongCtx.Train.Kernels;

namespace LongCtx.Train.Tests;

public sealed class GemmTests
{
    public static TheoryData<int, int, int, bool, bool, bool> Shapes() => new()
    {
        { 1, 1, 1, false, false, false },
        { 7, 5, 3, false, true, false },
        { 13, 33, 17, true, false, true },
        { 100, 70, 300, false, true, true },
        { 97, 65, 513, true, true, false },
        { 200, 40, 9, true, false, false },
        { 12, 32, 256, false, false, true },
        { 24, 96, 600, false, true, false },
        { 70, 40, 2500, true, false, true },
        { 13, 50, 1030, false, true, false },
        { 5, 7, 0, false, false, false },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesTripleLoop(int m, int n, int k, bool transA, bool transB, bool accumulate)
    {
        var rng = new Random(m * 1000 + n * 10 + k);
        int lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 1, ldc = n + 2;
        float[] a = TestData.Random(rng, (transA ? k : m) * lda), b = TestData.Random(rng, (transB ? n : k) * ldb);
        float[] c0 = TestData.Random(rng, m * ldc);
        float[] expected = (float[])c0.Clone(), actual = (float[])c0.Clone(), scalar = (float[])c0.Clone();
        Gemm.Reference(transA, transB, m, n, k, a, lda, b, ldb, expected, ldc, accumulate);
        using var pool = new WorkerPool(2);
        Gemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, actual, ldc, accumulate, pool);
        TestData.AssertClose(expected, actual, 1e-5, 1e-5, "SIMD");
        Cpu.Simd = false;
        try
        {
            Gemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, scalar, ldc, accumulate, pool);
        }
        finally
        {
            Cpu.Simd = true;
        }
        TestData.AssertClose(expected, scalar, 1e-5, 1e-5, "scalar");
    }

    [Fact]
    public void ResultDoesNotDependOnThreadCount()
    {
        var rng = new Random(5);
        const int m = 70, n = 300, k = 1000;
        float[] a = TestData.Random(rng, k * m), b = TestData.Random(rng, k * n);
        float[] one = new float[m * n], two = new float[m * n];
        using (var pool = new WorkerPool(1)) Gemm.Multiply(true, false, m, n, k, a, m, b, n, one, n, false, pool);
        using (var pool = new WorkerPool(3)) Gemm.Multiply(true, false, m, n, k, a, m, b, n, two, n, false, pool);
        Assert.Equal(one, two);
    }

    [Fact]
    public void TooSmallBufferIsNamed()
    {
        using var pool = new WorkerPool(1);
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 4, 4, 4, new float[15], 4, new float[16], 4, new float[16], 4, false, pool));
        Assert.Equal("a", e.ParamName);
    }

    [Theory]
    [InlineData(64, 64, 32, 32, 1)]
    [InlineData(64, 32, 64, 1, 64)]
    [InlineData(8, 48, 16, 16, 1)]
    [InlineData(16, 128, 7, 7, 1)]
    public unsafe void TileGemmMatchesScalarTwin(int rows, int width, int depth, int ars, int aps)
    {
        var rng = new Random(rows + width + depth);
        float[] a = TestData.Random(rng, rows * depth + 64), b = TestData.Random(rng, depth * width), c = TestData.Random(rng, rows * width);
        float[] expected = (float[])c.Clone();
        fixed (float* pa = a, pb = b, pc = c, pe = expected)
        {
            TileGemm.Multiply(rows, width, depth, pa, ars, aps, pb, width, pc, width, true);
            TileGemm.Scalar(rows, width, depth, pa, ars, aps, pb, width, pe, width, true);
        }
        TestData.AssertClose(expected, c, 1e-5, 1e-6, "tile");
    }
}
