using LongCtx.Tensors;
using LongCtx.Train.Kernels;

namespace LongCtx.Train.Tests;

/// <summary>Each op's backward against central finite differences of its forward, on the SIMD path and on the scalar twins.</summary>
public sealed class OpsGradientTests : IDisposable
{
    private readonly WorkerPool _pool = new(2);

    public void Dispose()
    {
        Cpu.Simd = true;
        _pool.Dispose();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RmsNorm(bool simd)
    {
        Cpu.Simd = simd;
        var rng = new Random(1);
        const int rows = 7, d = 40;
        float[] x = TestData.Random(rng, rows * d, 2f), w = TestData.Random(rng, d), r = TestData.Random(rng, rows * d);
        float[] y = new float[rows * d], rstd = new float[rows];
        double Loss()
        {
            RmsNormOp.Forward(x, w, 1e-5f, y, rstd, _pool);
            return TestData.Dot(y, r);
        }
        Loss();
        float[] dx = TestData.Random(rng, rows * d), dx0 = (float[])dx.Clone(), dw = new float[d];
        RmsNormOp.Backward(r, x, w, rstd, dx, dw, accumulate: true, _pool);
        for (int i = 0; i < dx.Length; i++) dx[i] -= dx0[i];
        TestData.GradCheck("dx", x, Loss, dx, rng);
        TestData.GradCheck("dw", w, Loss, dw, rng);
    }

    [Fact]
    public void RopeBackwardIsTheInverseRotationAndMatchesLongCtx()
    {
        var rng = new Random(2);
        const int t = 9, hd = 16, width = 3 * hd;
        float[] table = RopeOp.Table(t, hd, 500000f);
        float[] x = TestData.Random(rng, 2 * t * width), r = TestData.Random(rng, x.Length);
        float[] y = new float[x.Length];
        double Loss()
        {
            x.CopyTo(y, 0);
            RopeOp.Apply(y, width, hd, t, table, false, _pool);
            return TestData.Dot(y, r);
        }
        float[] dx = (float[])r.Clone();
        RopeOp.Apply(dx, width, hd, t, table, true, _pool);
        TestData.GradCheck("dx", x, Loss, dx, rng, samples: 40);

        // Row 2·t−1 is position t−1 of sequence 2: the same rotation as the engine's Rope.Apply.
        Loss();
        float[] expected = x.AsSpan((2 * t - 1) * width, width).ToArray();
        var angles = new float[hd];
        Rope.Angles(t - 1, hd, 500000f, 1f, [], angles);
        Rope.Apply(expected, hd, angles, LongCtx.Models.RopeStyle.Normal);
        Assert.Equal(expected, y.AsSpan((2 * t - 1) * width, width).ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SwiGlu(bool simd)
    {
        Cpu.Simd = simd;
        var rng = new Random(3);
        const int n = 4099 * 2 + 5;
        float[] g = TestData.Random(rng, n, 4f), u = TestData.Random(rng, n, 2f), r = TestData.Random(rng, n), a = new float[n];
        double Loss()
        {
            SwiGluOp.Forward(g, u, a, _pool);
            return TestData.Dot(a, r);
        }
        float[] dg = new float[n], du = new float[n];
        SwiGluOp.Backward(r, g, u, dg, du, _pool);
        TestData.GradCheck("dgate", g, Loss, dg, rng, h: 1e-3f);
        TestData.GradCheck("dup", u, Loss, du, rng, h: 1e-3f);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CrossEntropy(bool simd)
    {
        Cpu.Simd = simd;
        var rng = new Random(4);
        const int rows = 5, vocab = 37;
        float[] z = TestData.Random(rng, rows * vocab, 5f);
        int[] targets = [3, 0, 36, 17, 3];
        float[] scale = [0.5f, 0.25f, 0.125f, 0.125f, 0f];
        float[] losses = new float[rows];
        double Loss()
        {
            float[] copy = (float[])z.Clone();
            return CrossEntropyOp.ForwardBackward(copy, vocab, targets, scale, losses, _pool);
        }
        float[] grad = (float[])z.Clone();
        double loss = CrossEntropyOp.ForwardBackward(grad, vocab, targets, scale, losses, _pool);
        // The loss of row 0 from its definition, −log softmax[target].
        double max = double.NegativeInfinity, sum = 0;
        for (int i = 0; i < vocab; i++) max = Math.Max(max, z[i]);
        for (int i = 0; i < vocab; i++) sum += Math.Exp(z[i] - max);
        Assert.Equal(Math.Log(sum) + max - z[3], losses[0], 4);
        Assert.True(loss > 0);
        TestData.GradCheck("dlogits", z, Loss, grad, rng, samples: 60, h: 1e-3f);
        Assert.Throws<ArgumentOutOfRangeException>(() => CrossEntropyOp.ForwardBackward(new float[vocab], vocab, [vocab], [1f], new float[1], _pool));
    }

    [Fact]
    public void Embedding()
    {
        var rng = new Random(5);
        const int vocab = 11, d = 40;
        float[] table = TestData.Random(rng, vocab * d);
        int[] tokens = [3, 7, 3, 0, 10, 3];
        float[] r = TestData.Random(rng, tokens.Length * d), x = new float[tokens.Length * d];
        double Loss()
        {
            EmbeddingOp.Forward(table, d, tokens, x);
            return TestData.Dot(x, r);
        }
        float[] dt = new float[table.Length];
        EmbeddingOp.Backward(r, d, tokens, dt, _pool);
        TestData.GradCheck("dtable", table, Loss, dt, rng, samples: 60);
        Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingOp.Forward(table, d, [vocab], x));
    }

    [Fact]
    public void TiledAttentionBackwardMatchesFiniteDifferences()
    {
        var s = new AttentionShape(2, 70, 4, 2, 16);
        var rng = new Random(6);
        int n = s.Batch * s.Length;
        float[] q = TestData.Random(rng, n * s.QWidth, 2f), k = TestData.Random(rng, n * s.KvWidth, 2f), v = TestData.Random(rng, n * s.KvWidth);
        float[] r = TestData.Random(rng, n * s.QWidth), o = new float[q.Length], lse = new float[n * s.Heads];
        double Loss()
        {
            TiledAttention.Forward(s, q, k, v, o, lse, _pool);
            return TestData.Dot(o, r);
        }
        Loss();
        float[] dq = new float[q.Length], dk = new float[k.Length], dv = new float[v.Length];
        TiledAttention.Backward(s, q, k, v, o, lse, r, dq, dk, dv, _pool);
        TestData.GradCheck("dq", q, Loss, dq, rng, h: 1e-2f);
        TestData.GradCheck("dk", k, Loss, dk, rng, h: 1e-2f);
        TestData.GradCheck("dv", v, Loss, dv, rng, h: 1e-2f);
    }
}
