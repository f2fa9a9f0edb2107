using LongCtx.KvCache;
using LongCtx.Models;

namespace LongCtx.Tests.KvCache;

/// <summary>Model-free caches and observations with random contents, for the press and selector contracts.</summary>
internal static class KvTestData
{
    public static ModelConfig Config(int layers = 3, int heads = 4, int kvHeads = 2, int headDim = 32, Architecture? arch = null) => new()
    {
        Architecture = arch ?? Architecture.Qwen2,
        VocabSize = 512,
        ContextLength = 4096,
        EmbeddingLength = heads * headDim,
        BlockCount = layers,
        FeedForwardLength = 64,
        HeadCount = heads,
        HeadCountKv = kvHeads,
        HeadDim = headDim,
        ValueHeadDim = headDim,
        RmsEpsilon = 1e-6f,
        RopeDimensions = headDim,
        RopeFreqBase = 10000f,
        RopeFreqScale = 1f,
    };

    /// <summary>A cache holding positions 0..n-1 with Gaussian keys and values in every head.</summary>
    public static LongCtx.KvCache.KvCache Cache(ModelConfig c, int n, KvCacheType type = KvCacheType.F16, int seed = 1)
    {
        var rng = new Random(seed);
        var cache = new LongCtx.KvCache.KvCache(c, Math.Max(n, 1) + 256, type);
        var k = new float[c.HeadCountKv * c.HeadDim];
        var v = new float[c.HeadCountKv * c.ValueHeadDim];
        for (int p = 0; p < n; p++)
        {
            for (int l = 0; l < c.BlockCount; l++)
            {
                Fill(rng, k);
                Fill(rng, v);
                cache.Write(l, p, k, v);
            }
        }
        return cache;
    }

    /// <summary>Random queries recorded for the last <paramref name="window"/> of <paramref name="n"/> positions.</summary>
    public static KvObservations Observations(ModelConfig c, int n, int window, int seed = 2)
    {
        var rng = new Random(seed);
        var obs = new KvObservations(c, window);
        int count = Math.Min(n, window);
        var q = new float[count * c.HeadCount * c.HeadDim];
        for (int l = 0; l < c.BlockCount; l++)
        {
            Fill(rng, q);
            obs.Record(l, q, n - count, count);
        }
        return obs;
    }

    public static void Fill(Random rng, Span<float> x, float scale = 1f)
    {
        for (int i = 0; i < x.Length; i++)
        {
            // Box-Muller: Gaussian values like real keys
            double u = 1 - rng.NextDouble(), w = rng.NextDouble();
            x[i] = scale * (float)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * w));
        }
    }

    public static float[] Key(LongCtx.KvCache.KvCache cache, int layer, int head, int j)
    {
        KvHeadView view = cache.Head(layer, head);
        var key = new float[view.KeyDim];
        view.ReadKey(j, key);
        return key;
    }
}
