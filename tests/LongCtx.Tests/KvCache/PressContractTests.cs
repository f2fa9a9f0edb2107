using LongCtx.KvCache;
using LongCtx.KvCache.Presses;
using LongCtx.Models;
using LongCtx.Tensors;

namespace LongCtx.Tests.KvCache;

/// <summary>
/// The contract of every press, driven by the registry: the kept entries are exactly the
/// top-scored ones; then each family's own promise on a planted pattern.
/// </summary>
public sealed class PressContractTests
{
    private static readonly ModelConfig C = KvTestData.Config();

    /// <summary>Every registered press built on <see cref="ScorerPress"/>.</summary>
    public static TheoryData<string> ScorerPresses()
    {
        var data = new TheoryData<string>();
        foreach (KvMethodInfo m in KvMethodRegistry.All)
        {
            if (m.Kind == KvMethodKind.Press && KvMethodRegistry.Parse(m.Name).Press is ScorerPress)
            {
                data.Add(m.Name);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ScorerPresses))]
    public void KeptEntriesAreExactlyTheTopScoredOnes(string name)
    {
        const int n = 200;
        var press = (ScorerPress)KvMethodRegistry.Parse($"{name}:ratio=0.6").Press!;
        KvPressContext context = RandomContext(n);
        var expected = new int[C.BlockCount, C.HeadCountKv][];
        for (int l = 0; l < C.BlockCount; l++)
        {
            for (int h = 0; h < C.HeadCountKv; h++)
            {
                int keep = press.KeepCount(context, l, n);
                var scores = new float[n];
                press.Score(context, l, h, keep, scores);
                expected[l, h] = Enumerable.Range(0, n).OrderByDescending(j => scores[j]).ThenByDescending(j => j).Take(keep).Order().ToArray();
            }
        }

        press.Compress(context);

        for (int l = 0; l < C.BlockCount; l++)
        {
            for (int h = 0; h < C.HeadCountKv; h++)
            {
                Assert.Equal(expected[l, h], context.Cache.Positions(l, h).ToArray());
            }
        }
    }

    [Fact]
    public void AdaKvKeepsTheLayersTopScoresAcrossHeadsWithTheSafeguard()
    {
        const int n = 200;
        var press = (AdaKvPress)KvMethodRegistry.Parse("adakv:scorer=knorm,ratio=0.7,alpha=0.3").Press!;
        KvPressContext context = RandomContext(n);
        // Head 1 of every layer gets small keys (high KNorm scores): it should take most of the budget.
        for (int l = 0; l < C.BlockCount; l++)
        {
            ScaleKeys(context.Cache, l, 1, 0.2f);
        }
        var expected = new List<int>[C.BlockCount, C.HeadCountKv];
        int keep = press.Scorer.KeepCount(context, 0, n);
        for (int l = 0; l < C.BlockCount; l++)
        {
            var all = new List<(float Score, int Flat)>();
            for (int h = 0; h < C.HeadCountKv; h++)
            {
                var scores = new float[n];
                press.Scorer.Score(context, l, h, keep, scores);
                foreach (int j in Enumerable.Range(0, n).OrderByDescending(j => scores[j]).ThenByDescending(j => j).Take((int)(keep * 0.3)))
                {
                    scores[j] = float.PositiveInfinity;
                }
                for (int j = 0; j < n; j++) all.Add((scores[j], h * n + j));
                expected[l, h] = [];
            }
            foreach ((float _, int flat) in all.OrderByDescending(e => e.Score).ThenByDescending(e => e.Flat).Take(keep * C.HeadCountKv))
            {
                expected[l, flat / n].Add(flat % n);
            }
        }

        press.Compress(context);

        for (int l = 0; l < C.BlockCount; l++)
        {
            Assert.Equal(keep * C.HeadCountKv, context.Cache.Count(l, 0) + context.Cache.Count(l, 1));
            Assert.True(context.Cache.Count(l, 1) > context.Cache.Count(l, 0), "the head with higher scores keeps more");
            Assert.True(context.Cache.Count(l, 0) >= (int)(keep * 0.3), "the safeguard");
            for (int h = 0; h < C.HeadCountKv; h++)
            {
                Assert.Equal(expected[l, h].Order(), context.Cache.Positions(l, h).ToArray());
            }
        }
        long perEntry = (C.HeadDim + C.ValueHeadDim) * 2 + 4 + 4; // F16 key and value, position, accumulated attention
        Assert.Equal(C.BlockCount * keep * C.HeadCountKv * perEntry, context.Cache.Bytes);
    }

    [Fact]
    public void StreamingLlmKeepsSinksAndTheRecentWindow()
    {
        KvPressContext context = RandomContext(100);
        new StreamingLlmPress { Ratio = 0.5, Sinks = 4 }.Compress(context);
        int[] expected = [.. Enumerable.Range(0, 4), .. Enumerable.Range(54, 46)];
        for (int l = 0; l < C.BlockCount; l++)
            for (int h = 0; h < C.HeadCountKv; h++)
                Assert.Equal(expected, context.Cache.Positions(l, h).ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void SnapKvKeepsWhatTheObservationWindowAttendsTo(int kernel)
    {
        const int n = 200, window = 16;
        int[] planted = [17, 42, 93, 130];
        KvPressContext context = PlantedContext(n, window, planted, out _);
        // budget: the window + the planted entries (and their pooled neighbours when kernel = 5)
        int keep = window + planted.Length * kernel;
        var press = new SnapKvPress { Ratio = 1 - (double)keep / n, Window = window, Kernel = kernel };

        press.Compress(context);

        for (int l = 0; l < C.BlockCount; l++)
        {
            for (int h = 0; h < C.HeadCountKv; h++)
            {
                int[] kept = context.Cache.Positions(l, h).ToArray();
                Assert.Equal(keep, kept.Length);
                Assert.Equal(Enumerable.Range(n - window, window), kept[^window..]);
                Assert.All(planted, p => Assert.Contains(p, kept));
                if (kernel == 1)
                {
                    Assert.Equal(planted, kept[..^window]);
                }
            }
        }
    }

    [Fact]
    public void TovaKeepsWhatTheLastTokenAttendsTo()
    {
        int[] planted = [5, 60, 61, 150];
        KvPressContext context = PlantedContext(200, 1, planted, out _);
        new TovaPress { Ratio = 1 - 5.0 / 200 }.Compress(context);
        Assert.Equal([.. planted, 199], context.Cache.Positions(2, 1).ToArray());
    }

    [Fact]
    public void H2OKeepsTheEntriesWithTheMostAccumulatedAttention()
    {
        const int n = 200;
        int[] planted = [11, 80, 120, 150, 160];
        KvPressContext context = PlantedContext(n, 1, planted, out float[] direction);
        LongCtx.KvCache.KvCache cache = context.Cache;
        cache.TrackAttention(true);
        // Replay 20 queries along the planted direction through the forward hooks' accumulation
        using var pool = new WorkerPool(1);
        var hooks = new KvHooks(C, pool);
        var q = new float[C.HeadCount * C.HeadDim];
        for (int t = 0; t < 20; t++)
        {
            for (int l = 0; l < C.BlockCount; l++)
            {
                for (int h = 0; h < C.HeadCount; h++) direction.CopyTo(q, h * C.HeadDim);
                hooks.BeforeAttention(l, q, n - 1, 1, cache);
            }
        }
        new H2OPress { Ratio = 1 - 10.0 / n, Recent = 0.5 }.Compress(context);
        // 10 kept: half the most recent, half the heavy hitters
        Assert.Equal([.. planted, 195, 196, 197, 198, 199], cache.Positions(1, 0).ToArray());
    }

    [Fact]
    public void PyramidKvGivesLowerLayersMoreWithTheSameMean()
    {
        ModelConfig c = KvTestData.Config(layers: 8);
        var context = new KvPressContext { Cache = KvTestData.Cache(c, 1000), Config = c, Position = 1000 };
        var press = new PyramidKvPress { Ratio = 0.75, Window = 8 };
        int[] budgets = Enumerable.Range(0, 8).Select(l => press.KeepCount(context, l, 1000)).ToArray();
        for (int l = 1; l < 8; l++) Assert.True(budgets[l] < budgets[l - 1], string.Join(",", budgets));
        Assert.InRange(budgets.Average(), 249, 251);
        Assert.Equal(250, new PyramidKvPress { Ratio = 0.75, Window = 400 }.KeepCount(context, 3, 1000)); // no room for a pyramid: uniform
    }

    [Fact]
    public void ThinKPrunesTheChannelsWithTheSmallestQueryKeyEnergy()
    {
        const int n = 100;
        KvPressContext context = RandomContext(n);
        var press = new ThinkPress { Ratio = 0.5, Window = 8 };
        KvObservations obs = context.Observations!;
        var expected = new int[C.BlockCount, C.HeadCountKv][];
        for (int l = 0; l < C.BlockCount; l++)
        {
            for (int h = 0; h < C.HeadCountKv; h++)
            {
                var score = new double[C.HeadDim];
                for (int c = 0; c < C.HeadDim; c++)
                {
                    double qp = 0, kp = 0;
                    for (int i = obs.QueryCount - 8; i < obs.QueryCount; i++)
                        for (int g = 0; g < C.KvGroup; g++)
                        {
                            float x = obs.Queries(l, i)[(h * C.KvGroup + g) * C.HeadDim + c];
                            qp += x * x;
                        }
                    for (int j = 0; j < n; j++) kp += Math.Pow(KvTestData.Key(context.Cache, l, h, j)[c], 2);
                    score[c] = qp * kp;
                }
                expected[l, h] = Enumerable.Range(0, C.HeadDim).OrderByDescending(c => score[c]).Take(C.HeadDim / 2).Order().ToArray();
            }
        }

        press.Compress(context);

        for (int l = 0; l < C.BlockCount; l++)
            for (int h = 0; h < C.HeadCountKv; h++)
                Assert.Equal(expected[l, h], context.Cache.Head(l, h).KeyChannels.ToArray());
        // Keys really shrink: per entry 16 F16 key channels, 32 value channels, position, accumulated attention; per head the channel map
        Assert.Equal(C.BlockCount * C.HeadCountKv * (n * (16 * 2 + 32 * 2 + 4 + 4) + 16 * 4), context.Cache.Bytes);
    }

    [Fact]
    public void ThinKAndQuantizationApplyOncePerHead()
    {
        KvPressContext context = RandomContext(100);
        var think = new ThinkPress { Ratio = 0.5, Window = 8 };
        think.Compress(context);
        int[] channels = context.Cache.Head(0, 0).KeyChannels.ToArray();
        think.Compress(context); // decode-time compression calls it again
        Assert.Equal(channels, context.Cache.Head(0, 0).KeyChannels.ToArray());

        var int8 = new QuantizePress(new KvQuantization(8, 16, 16));
        int8.Compress(context);
        float[] key = KvTestData.Key(context.Cache, 1, 1, 3);
        int8.Compress(context);
        Assert.Equal(key, KvTestData.Key(context.Cache, 1, 1, 3)); // not quantized twice
    }

    [Fact]
    public void ExpectedAttentionScoresByTheRotatedMeanQuery()
    {
        const int n = 120, window = 32;
        var rng = new Random(4);
        LongCtx.KvCache.KvCache cache = KvTestData.Cache(C, n, KvCacheType.F32);
        // Every recorded query is one pre-RoPE vector u rotated to its position
        var u = new float[C.HeadDim];
        KvTestData.Fill(rng, u);
        var obs = new KvObservations(C, window);
        var q = new float[window * C.HeadCount * C.HeadDim];
        for (int i = 0; i < window; i++)
            for (int h = 0; h < C.HeadCount; h++)
                Rotated(u, n - window + i).CopyTo(q, (i * C.HeadCount + h) * C.HeadDim);
        for (int l = 0; l < C.BlockCount; l++) obs.Record(l, q, n - window, window);
        var context = new KvPressContext { Cache = cache, Config = C, Observations = obs, Position = n };
        var press = new ExpectedAttentionPress { Ratio = 0.5, Window = window, Future = 1, Covariance = false, ValueNorm = false, Sinks = 4 };

        var scores = new float[n];
        press.Score(context, 0, 0, 60, scores);

        // With one future position and identical queries, the expected query is u rotated to position n.
        float[] future = Rotated(u, n);
        var logits = new double[n];
        double max = double.NegativeInfinity, sum = 0;
        for (int j = 4; j < n; j++)
        {
            logits[j] = System.Numerics.Tensors.TensorPrimitives.Dot(future, KvTestData.Key(cache, 0, 0, j)) / Math.Sqrt(C.HeadDim);
            max = Math.Max(max, logits[j]);
        }
        for (int j = 4; j < n; j++) sum += Math.Exp(logits[j] - max);
        for (int j = 4; j < n; j++) Assert.Equal(Math.Exp(logits[j] - max) / sum, scores[j], 3);
        Assert.All(scores[..4], s => Assert.Equal(float.PositiveInfinity, s));
    }

    private static float[] Rotated(float[] u, int position)
    {
        var angles = new float[C.RopeDimensions];
        Rope.Angles(position, C.RopeDimensions, C.RopeFreqBase, C.RopeFreqScale, default, angles);
        float[] x = (float[])u.Clone();
        Rope.Apply(x, C.HeadDim, angles, C.Architecture.Rope);
        return x;
    }

    /// <summary>A random cache of <paramref name="n"/> positions with random queries of its last 64 tokens and random accumulated attention.</summary>
    private static KvPressContext RandomContext(int n)
    {
        LongCtx.KvCache.KvCache cache = KvTestData.Cache(C, n);
        cache.TrackAttention(true);
        var rng = new Random(6);
        for (int l = 0; l < C.BlockCount; l++)
            for (int h = 0; h < C.HeadCountKv; h++)
                foreach (ref float a in cache.AccumulatedAttention(l, h)) a = (float)rng.NextDouble();
        return new KvPressContext { Cache = cache, Config = C, Observations = KvTestData.Observations(C, n, 256), Position = n };
    }

    /// <summary>
    /// Small random keys, except the planted entries whose keys point along one direction that the
    /// last <paramref name="window"/> queries share: those entries draw the window's attention.
    /// </summary>
    private static KvPressContext PlantedContext(int n, int window, int[] planted, out float[] direction)
    {
        var rng = new Random(8);
        var cache = new LongCtx.KvCache.KvCache(C, n, KvCacheType.F16);
        direction = new float[C.HeadDim];
        KvTestData.Fill(rng, direction);
        System.Numerics.Tensors.TensorPrimitives.Multiply(direction, 1.5f / System.Numerics.Tensors.TensorPrimitives.Norm(direction) * MathF.Sqrt(C.HeadDim), direction);
        var k = new float[C.HeadCountKv * C.HeadDim];
        for (int p = 0; p < n; p++)
        {
            for (int l = 0; l < C.BlockCount; l++)
            {
                KvTestData.Fill(rng, k, 0.3f);
                if (planted.Contains(p))
                {
                    for (int h = 0; h < C.HeadCountKv; h++) direction.CopyTo(k, h * C.HeadDim);
                }
                cache.Write(l, p, k, k);
            }
        }
        var obs = new KvObservations(C, window);
        var q = new float[window * C.HeadCount * C.HeadDim];
        for (int l = 0; l < C.BlockCount; l++)
        {
            KvTestData.Fill(rng, q, 0.3f);
            for (int i = 0; i < q.Length; i++) q[i] += direction[i % C.HeadDim];
            obs.Record(l, q, n - window, window);
        }
        return new KvPressContext { Cache = cache, Config = C, Observations = obs, Position = n };
    }

    private static void ScaleKeys(LongCtx.KvCache.KvCache cache, int layer, int head, float factor)
    {
        KvHeadView view = cache.Head(layer, head);
        // The F16 rows are views into the store: scale them in place for this test.
        Span<Half> keys = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(
            ref System.Runtime.InteropServices.MemoryMarshal.GetReference(view.KeysF16), view.KeysF16.Length);
        for (int i = 0; i < keys.Length; i++) keys[i] = (Half)((float)keys[i] * factor);
    }
}
