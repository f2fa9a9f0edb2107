using LongCtx.Tensors;
using LongCtx.Train.Kernels;

namespace LongCtx.Train.Tests;

public sealed class AttentionTests
{
    public static TheoryData<int, int, int, int, int> Shapes() => new()
    {
        { 1, 5, 2, 1, 16 },
        { 2, 64, 4, 2, 32 },
        { 2, 100, 4, 1, 32 },
        { 1, 150, 2, 2, 64 },
        { 1, 130, 4, 2, 48 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void TiledForwardAndBackwardMatchDense(int batch, int length, int heads, int kvHeads, int hd)
    {
        var s = new AttentionShape(batch, length, heads, kvHeads, hd);
        var rng = new Random(length * 31 + hd);
        int n = batch * length;
        float[] q = TestData.Random(rng, n * s.QWidth, 2f), k = TestData.Random(rng, n * s.KvWidth, 2f), v = TestData.Random(rng, n * s.KvWidth);
        float[] dout = TestData.Random(rng, n * s.QWidth);
        float[] o = new float[q.Length], lse = new float[n * heads], oRef = new float[q.Length], lseRef = new float[lse.Length];
        AttentionReference.Forward(s, q, k, v, oRef, lseRef);
        using var pool = new WorkerPool(2);
        TiledAttention.Forward(s, q, k, v, o, lse, pool);
        TestData.AssertClose(oRef, o, 1e-4, 1e-5, "o");
        TestData.AssertClose(lseRef, lse, 1e-5, 1e-6, "lse");

        float[] dq = new float[q.Length], dk = new float[k.Length], dv = new float[v.Length];
        float[] dqRef = new float[q.Length], dkRef = new float[k.Length], dvRef = new float[v.Length];
        AttentionReference.Backward(s, q, k, v, dout, dqRef, dkRef, dvRef);
        TiledAttention.Backward(s, q, k, v, o, lse, dout, dq, dk, dv, pool);
        TestData.AssertClose(dqRef, dq, 1e-3, 1e-4, "dq");
        TestData.AssertClose(dkRef, dk, 1e-3, 1e-4, "dk");
        TestData.AssertClose(dvRef, dv, 1e-3, 1e-4, "dv");
    }

    [Fact]
    public void DenseBackwardMatchesFiniteDifferences()
    {
        var s = new AttentionShape(2, 9, 4, 2, 8);
        var rng = new Random(3);
        int n = s.Batch * s.Length;
        float[] q = TestData.Random(rng, n * s.QWidth, 2f), k = TestData.Random(rng, n * s.KvWidth, 2f), v = TestData.Random(rng, n * s.KvWidth);
        float[] r = TestData.Random(rng, n * s.QWidth);
        float[] o = new float[q.Length], lse = new float[n * s.Heads];
        double Loss()
        {
            AttentionReference.Forward(s, q, k, v, o, lse);
            return TestData.Dot(o, r);
        }
        float[] dq = new float[q.Length], dk = new float[k.Length], dv = new float[v.Length];
        AttentionReference.Backward(s, q, k, v, r, dq, dk, dv);
        TestData.GradCheck("dq", q, Loss, dq, rng, h: 1e-3f);
        TestData.GradCheck("dk", k, Loss, dk, rng, h: 1e-3f);
        TestData.GradCheck("dv", v, Loss, dv, rng, h: 1e-3f);
    }

    [Fact]
    public void LongSequenceNeedsNoScoreMatrix()
    {
        // 4096 tokens: the score matrix of one head would be 64 MB; tiles keep it at 16 KB.
        var s = new AttentionShape(1, 4096, 2, 1, 32);
        var rng = new Random(9);
        int n = s.Length;
        float[] q = TestData.Random(rng, n * s.QWidth), k = TestData.Random(rng, n * s.KvWidth), v = TestData.Random(rng, n * s.KvWidth);
        float[] o = new float[q.Length], lse = new float[n * s.Heads];
        using var pool = new WorkerPool(2);
        long before = GC.GetAllocatedBytesForCurrentThread();
        TiledAttention.Forward(s, q, k, v, o, lse, pool);
        // The last query row against a direct softmax over all 4096 keys.
        int i = n - 1, h = 1;
        double max = double.NegativeInfinity;
        var p = new double[n];
        for (int j = 0; j < n; j++)
        {
            double dot = 0;
            for (int c = 0; c < 32; c++) dot += (double)q[i * s.QWidth + h * 32 + c] * k[j * s.KvWidth + c];
            max = Math.Max(max, p[j] = dot * s.Scale);
        }
        double sum = 0, o0 = 0;
        for (int j = 0; j < n; j++) sum += p[j] = Math.Exp(p[j] - max);
        for (int j = 0; j < n; j++) o0 += p[j] / sum * v[j * s.KvWidth];
        Assert.Equal(o0, o[i * s.QWidth + h * 32], 4);
        // Per-thread scratch is O(T·hd) (a few MB); one head's score matrix would be T² floats = 64 MB.
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "the forward allocated a score-sized buffer");
    }
}
