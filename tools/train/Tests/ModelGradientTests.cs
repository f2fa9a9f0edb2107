using LongCtx.Tensors;
using LongCtx.Train.Kernels;
using LongCtx.Train.Model;

namespace LongCtx.Train.Tests;

/// <summary>The whole model's backward against finite differences of its loss.</summary>
public sealed class ModelGradientTests
{
    internal static readonly ModelShape Tiny = new() { Vocab = 67, Dim = 32, Layers = 2, Heads = 4, KvHeads = 2, Ffn = 48, RopeBase = 10000f, ContextLength = 128 };

    internal static Batch RandomBatch(int sequences, int length, int vocab, int seed, bool answerOnly)
    {
        var rng = new Random(seed);
        var b = new Batch(sequences, length);
        for (int i = 0; i < b.Count; i++)
        {
            b.Tokens[i] = rng.Next(vocab);
            b.Targets[i] = rng.Next(vocab);
            b.Weights[i] = answerOnly ? (i % length >= length - 3 ? 1f : 0f) : 1f;
        }
        return b;
    }

    /// <summary>Larger weights than a fresh init, so every op works in its nonlinear range and gradients are well above fp32 noise.</summary>
    internal static TrainModel TinyModel(WorkerPool pool, ModelShape? shape = null)
    {
        var model = new TrainModel(shape ?? Tiny, pool);
        var rng = new Random(11);
        foreach (ParamTensor t in model.Layout.All)
        {
            Span<float> p = model.P(t);
            float scale = t.Rows == 1 ? 0.3f : 1.5f / MathF.Sqrt(t.Cols);
            for (int i = 0; i < p.Length; i++) p[i] = (t.Rows == 1 ? 1f : 0f) + scale * (float)(rng.NextDouble() * 2 - 1);
        }
        return model;
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void EveryTensorMatchesFiniteDifferences(bool answerOnly, bool simd)
    {
        Cpu.Simd = simd;
        try
        {
            // One thread: ~250 forward-backward passes, and a spinning fork-join on a busy 2-core machine costs more than the work.
            using var pool = new WorkerPool(1);
            TrainModel model = TinyModel(pool);
            Batch batch = RandomBatch(2, 70, Tiny.Vocab, 1, answerOnly);
            model.ForwardBackward(batch);
            float[] grads = (float[])model.Grads.Clone();
            double Loss() => model.ForwardBackward(batch);
            var rng = new Random(2);
            foreach (ParamTensor t in model.Layout.All)
            {
                float[] p = model.P(t).ToArray();
                double LossAt()
                {
                    p.CopyTo(model.P(t));
                    return Loss();
                }
                TestData.GradCheck(t.Name, p, LossAt, grads.AsSpan((int)t.Offset, t.Length), rng, samples: 6, h: 2e-2f, rtol: 3e-2, atol: 3e-3);
                p.CopyTo(model.P(t));
            }
        }
        finally
        {
            Cpu.Simd = true;
        }
    }

    [Fact]
    public void DataParallelShardsSumToTheWholeBatchGradient()
    {
        Batch batch = RandomBatch(5, 40, Tiny.Vocab, 9, answerOnly: true);
        float[] whole, sharded;
        double lossWhole, lossSharded;
        using (var one = new WorkerPool(1))
        {
            TrainModel m = TinyModel(one);
            lossWhole = m.ForwardBackward(batch);
            whole = m.Grads;
        }
        using (var three = new WorkerPool(3))
        {
            TrainModel m = TinyModel(three);
            lossSharded = m.ForwardBackward(batch);
            sharded = m.Grads;
            var loss = new float[batch.Count];
            var hit = new bool[batch.Count];
            m.LastLosses(loss, hit);
            Assert.True(float.IsNaN(loss[0]) && !float.IsNaN(loss[39]) && !float.IsNaN(loss[4 * 40 + 39]), "per-position losses land at their batch rows");
        }
        Assert.Equal(lossWhole, lossSharded, 5);
        TestData.AssertClose(whole, sharded, 1e-4, 1e-6, "grads");
    }

    [Fact]
    public void DirectionalDerivativeOverAllParameters()
    {
        using var pool = new WorkerPool(2);
        TrainModel model = TinyModel(pool);
        Batch batch = RandomBatch(3, 33, Tiny.Vocab, 5, answerOnly: false);
        model.ForwardBackward(batch);
        float[] g = (float[])model.Grads.Clone(), theta = (float[])model.Params.Clone();
        var rng = new Random(3);
        float[] dir = TestData.Random(rng, theta.Length);
        double analytic = TestData.Dot(g, dir);
        double At(float eps)
        {
            for (int i = 0; i < theta.Length; i++) model.Params[i] = theta[i] + eps * dir[i];
            return model.ForwardBackward(batch);
        }
        const float h = 1e-3f;
        double numeric = (At(h) - At(-h)) / (2 * h);
        Assert.True(Math.Abs(numeric - analytic) <= 1e-2 * Math.Abs(analytic), $"directional derivative: finite difference {numeric}, backward {analytic}");
    }
}
