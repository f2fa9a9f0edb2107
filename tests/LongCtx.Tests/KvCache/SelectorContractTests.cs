using LongCtx.Attention;
using LongCtx.KvCache;
using LongCtx.KvCache.Selectors;
using LongCtx.Models;

namespace LongCtx.Tests.KvCache;

/// <summary>The selectors' contract: a choice within the budget, in order, that contains what the query attends to; nothing is deleted.</summary>
public sealed class SelectorContractTests
{
    private static readonly ModelConfig C = KvTestData.Config();

    public static TheoryData<string> Selectors()
    {
        var data = new TheoryData<string>();
        foreach (KvMethodInfo m in KvMethodRegistry.All)
        {
            if (m.Kind == KvMethodKind.Selector)
            {
                data.Add(m.Name);
            }
        }
        return data;
    }

    public static TheoryData<string, int> SelectorsAndLengths()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in Selectors())
        {
            data.Add(name, 1000);
            data.Add(name, 1024); // the current token ends a complete page
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SelectorsAndLengths))]
    public void ChoosesTheAttendedEntriesWithinTheBudget(string name, int n)
    {
        int[] planted = [37, 500, 777];
        LongCtx.KvCache.KvCache cache = Planted(n, planted, out float[] queries);
        IKvSelector selector = KvMethodRegistry.Parse($"{name}:budget=128" + (name == "quest" ? ",dense_layers=0" : "")).Selector!;
        var selected = new int[n];

        int count = selector.Select(cache, 1, 0, queries, selected);

        Assert.InRange(count, 1, 128);
        int[] chosen = selected[..count];
        Assert.Equal(chosen.Order().Distinct(), chosen);
        Assert.All(planted, p => Assert.Contains(p, chosen));
        Assert.Contains(n - 1, chosen); // the current token
        Assert.Equal(n, cache.Count(1, 0)); // nothing deleted
    }

    [Theory]
    [MemberData(nameof(Selectors))]
    public void ReadsEverythingWithinTheBudget(string name)
    {
        LongCtx.KvCache.KvCache cache = KvTestData.Cache(C, 100);
        IKvSelector selector = KvMethodRegistry.Parse($"{name}:budget=100").Selector!;
        Assert.Equal(-1, selector.Select(cache, 2, 1, new float[C.KvGroup * C.HeadDim], new int[100]));
    }

    [Fact]
    public void QuestPicksThePagesWithTheLargestUpperBound()
    {
        const int n = 512, page = 16;
        LongCtx.KvCache.KvCache cache = KvTestData.Cache(C, n, KvCacheType.F32);
        var queries = new float[C.KvGroup * C.HeadDim];
        KvTestData.Fill(new Random(3), queries);
        var selector = new QuestSelector { Budget = 4 * page, PageSize = page, DenseLayers = 0 };
        var selected = new int[n];
        int count = selector.Select(cache, 0, 0, queries, selected);

        // Independent bound: Σ_g Σ_c max(q·min, q·max) per page before the current token's page
        int pages = n / page - 1;
        var bounds = new double[pages];
        for (int p = 0; p < pages; p++)
        {
            for (int g = 0; g < C.KvGroup; g++)
            {
                for (int c = 0; c < C.HeadDim; c++)
                {
                    float lo = float.MaxValue, hi = float.MinValue;
                    for (int j = p * page; j < p * page + page; j++)
                    {
                        float x = KvTestData.Key(cache, 0, 0, j)[c];
                        lo = Math.Min(lo, x);
                        hi = Math.Max(hi, x);
                    }
                    float q = queries[g * C.HeadDim + c];
                    bounds[p] += Math.Max(q * lo, q * hi);
                }
            }
        }
        // Budget 4 pages: the current token's page, and the 3 of largest bound
        int[] expectedPages = [.. Enumerable.Range(0, pages).OrderByDescending(p => bounds[p]).Take(3).Order(), pages];
        Assert.Equal(expectedPages.SelectMany(p => Enumerable.Range(p * page, page)), selected[..count]);
    }

    [Fact]
    public void TokenSelectReusesItsChoiceForSimilarQueriesAndAddsNewEntries()
    {
        const int n = 600;
        LongCtx.KvCache.KvCache cache = Planted(n, [100, 200], out float[] queries);
        var selector = new TokenSelectSelector { Budget = 64, Reuse = 0.9f };
        var first = new int[n + 1];
        int count = selector.Select(cache, 1, 1, queries, first);
        var k = new float[C.HeadCountKv * C.HeadDim];
        cache.Write(1, n, k, k);
        var second = new int[n + 1];
        int again = selector.Select(cache, 1, 1, queries, second);
        Assert.Equal([.. first[..count], n], second[..again]);
    }

    [Fact]
    public void AttentionOverASelectionIsAttentionOverThoseEntries()
    {
        LongCtx.KvCache.KvCache cache = KvTestData.Cache(C, 300, KvCacheType.F32);
        int[] chosen = [0, 5, 6, 100, 299];
        var q = new float[C.HeadDim];
        KvTestData.Fill(new Random(2), q);
        var selectedOut = new float[C.ValueHeadDim];
        DenseAttention.HeadSelected(q, cache.Head(0, 0), chosen, 0.17f, selectedOut);

        LongCtx.KvCache.KvCache copy = KvTestData.Cache(C, 300, KvCacheType.F32);
        copy.Keep(0, 0, chosen);
        var denseOut = new float[C.ValueHeadDim];
        DenseAttention.Head(q, copy.Head(0, 0), chosen.Length, 0.17f, denseOut);
        for (int i = 0; i < denseOut.Length; i++) Assert.Equal(denseOut[i], selectedOut[i], 5);
    }

    /// <summary>Random keys with planted entries along the direction of the group's queries.</summary>
    private static LongCtx.KvCache.KvCache Planted(int n, int[] planted, out float[] queries)
    {
        var rng = new Random(12);
        var direction = new float[C.HeadDim];
        KvTestData.Fill(rng, direction);
        System.Numerics.Tensors.TensorPrimitives.Multiply(direction, 2f * MathF.Sqrt(C.HeadDim) / System.Numerics.Tensors.TensorPrimitives.Norm(direction), direction);
        var cache = new LongCtx.KvCache.KvCache(C, n + 8, KvCacheType.F16);
        var k = new float[C.HeadCountKv * C.HeadDim];
        for (int p = 0; p < n; p++)
        {
            for (int l = 0; l < C.BlockCount; l++)
            {
                KvTestData.Fill(rng, k, 0.5f);
                if (planted.Contains(p))
                {
                    for (int h = 0; h < C.HeadCountKv; h++) direction.CopyTo(k, h * C.HeadDim);
                }
                cache.Write(l, p, k, k);
            }
        }
        queries = new float[C.KvGroup * C.HeadDim];
        KvTestData.Fill(rng, queries, 0.2f);
        for (int i = 0; i < queries.Length; i++) queries[i] += direction[i % C.HeadDim];
        return cache;
    }
}
