using LongCtx.Attention;
using LongCtx.KvCache;
using LongCtx.Models;

namespace LongCtx.Tests.KvCache;

/// <summary>The cache's storage: per-head compaction that keeps positions and contents and releases memory, pruning, quantization and its error bound.</summary>
public sealed class KvCacheStorageTests
{
    private static readonly ModelConfig C = KvTestData.Config();

    [Theory]
    [InlineData(KvCacheType.F16)]
    [InlineData(KvCacheType.F32)]
    public void KeepCompactsOneHeadAndReleasesItsMemory(KvCacheType type)
    {
        LongCtx.KvCache.KvCache cache = KvTestData.Cache(C, 300, type);
        float[] before = KvTestData.Key(cache, 1, 1, 250);
        long bytes = cache.Bytes;
        int[] kept = [0, 1, 2, 100, 250, 299];

        cache.Keep(1, 1, kept);

        Assert.Equal(kept, cache.Positions(1, 1).ToArray());
        Assert.Equal(300, cache.Count(1, 0)); // other heads untouched
        Assert.Equal(before, KvTestData.Key(cache, 1, 1, 4));
        int elem = type == KvCacheType.F16 ? 2 : 4;
        long entry = (C.HeadDim + C.ValueHeadDim) * elem + 4;
        Assert.True(cache.Bytes <= bytes - (300 - kept.Length) * entry, $"{cache.Bytes} bytes held after keeping {kept.Length} of 300 (was {bytes})");
    }

    [Theory]
    [InlineData(KvCacheType.F16)]
    [InlineData(KvCacheType.F32)]
    public void ReserveHoldsRoomForThatManyEntriesAndNoMore(KvCacheType type)
    {
        LongCtx.KvCache.KvCache cache = KvTestData.Cache(C, 10, type);   // capacity 266
        int elem = type == KvCacheType.F16 ? 2 : 4;
        long entry = (C.HeadDim + C.ValueHeadDim) * elem + 4;
        long heads = C.BlockCount * C.HeadCountKv;

        cache.Reserve(150);
        long reserved = cache.Bytes;
        Assert.Equal(heads * 160 * entry, reserved);
        float[] before = KvTestData.Key(cache, 2, 1, 9);
        var k = new float[C.HeadCountKv * C.HeadDim];
        var v = new float[C.HeadCountKv * C.ValueHeadDim];
        for (int p = 10; p < 160; p++)
            for (int l = 0; l < C.BlockCount; l++)
                cache.Write(l, p, k, v);
        Assert.Equal(reserved, cache.Bytes);                     // the reserved room took them
        Assert.Equal(before, KvTestData.Key(cache, 2, 1, 9));    // and the entries held were kept

        cache.Reserve(1000);                                     // capped at the capacity
        Assert.Equal(heads * 266 * entry, cache.Bytes);
        Assert.Equal(160, cache.Count(2, 1));
    }

    [Fact]
    public void BytesAreExactlyWhatIsHeldAfterCompaction()
    {
        LongCtx.KvCache.KvCache cache = KvTestData.Cache(C, 200);
        var half = new int[100];
        for (int i = 0; i < half.Length; i++) half[i] = 2 * i;
        for (int l = 0; l < C.BlockCount; l++)
            for (int h = 0; h < C.HeadCountKv; h++)
                cache.Keep(l, h, half);
        long perEntry = (C.HeadDim + C.ValueHeadDim) * 2 + 4;
        Assert.Equal(C.BlockCount * C.HeadCountKv * 100 * perEntry, cache.Bytes);
    }

    [Fact]
    public void WritesContinueAfterCompactionAtTheSequencePosition()
    {
        LongCtx.KvCache.KvCache cache = KvTestData.Cache(C, 50);
        cache.Keep(0, 0, [3, 7]);
        var k = new float[C.HeadCountKv * C.HeadDim];
        cache.Write(0, 50, k, k);
        Assert.Equal([3, 7, 50], cache.Positions(0, 0).ToArray());
        Assert.Equal(51, cache.Count(0, 1));
    }

    [Fact]
    public void BadWritesAndIndicesAreNamed()
    {
        LongCtx.KvCache.KvCache cache = KvTestData.Cache(C, 10);
        var k = new float[C.HeadCountKv * C.HeadDim];
        var e = Assert.Throws<InvalidOperationException>(() => cache.Write(0, 5, k, k));
        Assert.Contains("position 5 written after position 9", e.Message);
        Assert.Contains("ascending", Assert.Throws<ArgumentException>(() => cache.Keep(0, 0, [3, 3])).Message);
        Assert.Contains("outside [0, 10)", Assert.Throws<ArgumentException>(() => cache.Keep(0, 0, [10])).Message);
        Assert.Contains("KV head 9", Assert.Throws<ArgumentOutOfRangeException>(() => cache.Count(0, 9)).Message);
    }

    [Fact]
    public void RemoveFromDropsTheTailOfEveryHead()
    {
        LongCtx.KvCache.KvCache cache = KvTestData.Cache(C, 40);
        cache.Keep(2, 1, [0, 10, 20, 30, 39]);
        cache.RemoveFrom(20);
        Assert.Equal([0, 10], cache.Positions(2, 1).ToArray());
        Assert.Equal(20, cache.Count(0, 0));
    }

    [Fact]
    public void PrunedKeyChannelsGiveTheScoresOfTheKeptChannels()
    {
        LongCtx.KvCache.KvCache cache = KvTestData.Cache(C, 64, KvCacheType.F32);
        var full = new float[64 * C.HeadDim];
        for (int j = 0; j < 64; j++) cache.Head(0, 0).ReadKey(j, full.AsSpan(j * C.HeadDim, C.HeadDim));
        long keyBytes = cache.Bytes;
        int[] channels = [1, 4, 5, 9, 20, 31];

        cache.PruneKeyChannels(0, 0, channels);

        KvHeadView view = cache.Head(0, 0);
        Assert.Equal(channels, view.KeyChannels.ToArray());
        Assert.Equal(channels.Length, view.KeyDim);
        var q = new float[C.HeadDim];
        KvTestData.Fill(new Random(5), q);
        var key = new float[channels.Length];
        Span<float> qp = view.ProjectQuery(q, new float[C.HeadDim]);
        for (int j = 0; j < 64; j++)
        {
            view.ReadKey(j, key);
            double expected = 0;
            foreach (int c in channels) expected += q[c] * full[j * C.HeadDim + c];
            Assert.Equal(expected, System.Numerics.Tensors.TensorPrimitives.Dot(qp, key), 4);
        }
        Assert.Equal(keyBytes - 64L * (C.HeadDim - channels.Length) * 4 + channels.Length * 4, cache.Bytes);

        // Later keys are stored with the same channels
        var k = new float[C.HeadCountKv * C.HeadDim];
        k[20] = 7;
        cache.Write(0, 64, k, k);
        Assert.Equal(7, KvTestData.Key(cache, 0, 0, 64)[4]);
    }

    [Theory]
    [InlineData(8, KvCacheType.F16)]
    [InlineData(4, KvCacheType.F16)]
    [InlineData(8, KvCacheType.F32)]
    [InlineData(4, KvCacheType.F32)]
    public void QuantizedEntriesDecodeWithinTheFormatsBound(int bits, KvCacheType type)
    {
        const int n = 300;
        LongCtx.KvCache.KvCache cache = KvTestData.Cache(C, n, type, seed: bits);
        var format = new KvQuantization(bits, group: 32, window: 40);
        var keys = new float[n][];
        var values = new float[n][];
        KvHeadView before = cache.Head(1, 0);
        for (int j = 0; j < n; j++)
        {
            keys[j] = new float[C.HeadDim];
            values[j] = new float[C.ValueHeadDim];
            before.ReadKey(j, keys[j]);
            before.ReadValue(j, values[j]);
        }
        long full = cache.Bytes;

        cache.Quantize(1, 0, format);

        KvHeadView view = cache.Head(1, 0);
        Assert.Equal((n - 40) / 32 * 32, view.QuantizedCount);
        Assert.True(cache.Bytes < full);
        var k = new float[C.HeadDim];
        var v = new float[C.ValueHeadDim];
        for (int j = 0; j < n; j++)
        {
            view.ReadKey(j, k);
            view.ReadValue(j, v);
            for (int c = 0; c < C.HeadDim; c++)
            {
                float kb = j < view.QuantizedCount ? view.Quantized!.KeyErrorBound(j, c) : 0;
                float vb = j < view.QuantizedCount ? view.Quantized!.ValueErrorBound(j, c) : 0;
                Assert.True(Math.Abs(k[c] - keys[j][c]) <= kb * 1.0001f + 1e-6f, $"key {j},{c}: {k[c]} vs {keys[j][c]} (bound {kb})");
                Assert.True(Math.Abs(v[c] - values[j][c]) <= vb * 1.0001f + 1e-6f, $"value {j},{c}: {v[c]} vs {values[j][c]} (bound {vb})");
                // The scale itself: (max − min) / (2^b − 1) of a group of unit Gaussians, well under the range / levels × 1.01
                Assert.True(kb <= 12f / ((1 << bits) - 1), $"key bound {kb}");
            }
        }
    }

    [Fact]
    public void EntriesAreQuantizedAsTheyAgeDuringDecode()
    {
        LongCtx.KvCache.KvCache cache = KvTestData.Cache(C, 100);
        cache.Quantize(0, 0, new KvQuantization(4, group: 16, window: 20));
        var rng = new Random(3);
        var k = new float[C.HeadCountKv * C.HeadDim];
        for (int p = 100; p < 200; p++)
        {
            KvTestData.Fill(rng, k);
            cache.Write(0, p, k, k);
            KvHeadView view = cache.Head(0, 0);
            Assert.InRange(view.Count - view.QuantizedCount, 20, 20 + 16 - 1);
            Assert.Equal(0, view.QuantizedCount % 16);
        }
        Assert.Equal(Enumerable.Range(0, 200), cache.Positions(0, 0).ToArray());
    }

    /// <summary>The fused products over codes (<c>QuantizedAttention</c>) equal attention over the decoded entries, quantized prefix and full-precision tail alike.</summary>
    [Theory]
    [InlineData(8, KvCacheType.F32, 150)]
    [InlineData(8, KvCacheType.F32, 200)]
    [InlineData(4, KvCacheType.F32, 200)]
    [InlineData(4, KvCacheType.F32, 77)]
    [InlineData(8, KvCacheType.F16, 200)]
    [InlineData(4, KvCacheType.F16, 190)]
    public void AttentionReadsQuantizedStorageAsItsDecodedValues(int bits, KvCacheType type, int visible)
    {
        LongCtx.KvCache.KvCache cache = KvTestData.Cache(C, 200, type);
        cache.Quantize(0, 1, new KvQuantization(bits, 32, 16));
        KvHeadView view = cache.Head(0, 1);
        var keys = new float[200 * C.HeadDim];
        var values = new float[200 * C.ValueHeadDim];
        for (int j = 0; j < 200; j++)
        {
            view.ReadKey(j, keys.AsSpan(j * C.HeadDim, C.HeadDim));
            view.ReadValue(j, values.AsSpan(j * C.ValueHeadDim, C.ValueHeadDim));
        }
        var q = new float[C.HeadDim];
        KvTestData.Fill(new Random(9), q);
        var output = new float[C.ValueHeadDim];
        DenseAttention.Head(q, view, visible, 0.2f, output);

        var weights = new double[visible];
        double max = double.NegativeInfinity, sum = 0;
        for (int j = 0; j < visible; j++)
        {
            for (int c = 0; c < C.HeadDim; c++) weights[j] += (double)q[c] * keys[j * C.HeadDim + c];
            weights[j] *= 0.2;
            max = Math.Max(max, weights[j]);
        }
        for (int j = 0; j < visible; j++) sum += weights[j] = Math.Exp(weights[j] - max);
        for (int c = 0; c < C.ValueHeadDim; c++)
        {
            double expected = 0;
            for (int j = 0; j < visible; j++) expected += weights[j] / sum * values[j * C.ValueHeadDim + c];
            // F16 caches round the query and the weights to F16 on the full-precision tail, as llama.cpp does
            Assert.Equal(expected, output[c], type == KvCacheType.F16 ? 2e-3 : 1e-4);
        }
    }

    [Fact]
    public void EvictionAfterQuantizationRequantizesTheKeptEntries()
    {
        LongCtx.KvCache.KvCache cache = KvTestData.Cache(C, 128);
        cache.Quantize(0, 0, new KvQuantization(8, 16, 16));
        var kept = new int[64];
        for (int i = 0; i < 64; i++) kept[i] = 2 * i;
        cache.Keep(0, 0, kept);
        KvHeadView view = cache.Head(0, 0);
        Assert.Equal(64, view.Count);
        Assert.Equal(48, view.QuantizedCount);
        Assert.Equal(kept, view.Positions.ToArray());
    }

    [Fact]
    public void ClearReleasesEverything()
    {
        LongCtx.KvCache.KvCache cache = KvTestData.Cache(C, 64);
        cache.Quantize(0, 0, new KvQuantization(4));
        cache.Clear();
        Assert.Equal(0, cache.Bytes);
        Assert.Equal(0, cache.TotalCount);
    }
}
