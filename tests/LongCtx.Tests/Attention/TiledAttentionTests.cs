using System.Runtime.Intrinsics;
using LongCtx.Attention;
using LongCtx.KvCache;
using LongCtx.Models;
using LongCtx.Tensors;

namespace LongCtx.Tests.Attention;

/// <summary>
/// The grouped, tiled kernels against <see cref="DenseAttention"/> (their specification), bit for
/// bit: every query head of a group, single-token and batched orders, counts around the 16-key,
/// 64-key and 512-key tile edges, head dims that are and are not multiples of 64.
/// </summary>
public sealed unsafe class TiledAttentionTests
{
    public static TheoryData<int, int, int, int> Shapes() => new()
    {
        // key dim, value dim, group size, count
        { 64, 64, 7, 1 },
        { 64, 64, 7, 17 },
        { 64, 64, 7, 64 },
        { 64, 64, 2, 65 },
        { 64, 64, 7, 300 },
        { 64, 64, 3, 1100 },
        { 128, 128, 4, 257 },
        { 80, 64, 2, 70 },
        { 96, 96, 1, 130 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void DecodeMatchesDenseAttentionBitForBit(int kd, int vd, int group, int count)
    {
        if (!TiledAttention.Available) return; // the dense path runs instead; nothing to compare
        (global::LongCtx.KvCache.KvCache cache, float[] q) = Setup(kd, vd, group, count, seed: kd + count);
        float scale = 1f / MathF.Sqrt(kd);
        var got = new float[group * vd];
        KvHeadView head = cache.Head(0, 1);
        TiledAttention.Decode(q, group, head.KeysF16, head.ValuesF16, kd, vd, count, scale, got);
        var expected = new float[vd];
        for (int g = 0; g < group; g++)
        {
            DenseAttention.Head(q.AsSpan(g * kd, kd), head, count, scale, expected, batched: false);
            Assert.Equal(expected, got.AsSpan(g * vd, vd).ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BatchMatchesDenseAttentionBitForBit(int kd, int vd, int group, int count)
    {
        if (!TiledAttention.Available) return;
        (global::LongCtx.KvCache.KvCache cache, float[] q) = Setup(kd, vd, group, count + 5, seed: 3 * kd + count);
        float scale = 1f / MathF.Sqrt(kd);
        var kv = new BatchKv();
        KvHeadView head = cache.Head(0, 1);
        kv.Load(head.KeysF16, head.ValuesF16, kd, vd, count + 5);
        foreach (int visible in new[] { count, count + 5 })
        {
            var got = new float[group * vd];
            TiledAttention.Batch(q, group, kv, visible, scale, got);
            var expected = new float[vd];
            for (int g = 0; g < group; g++)
            {
                DenseAttention.Head(q.AsSpan(g * kd, kd), head, visible, scale, expected, batched: true);
                Assert.Equal(expected, got.AsSpan(g * vd, vd).ToArray());
            }
        }
    }

    [Fact]
    public void SixteenReductionsAtOncePairLikeReduceAdd()
    {
        if (!TiledAttention.Available) return;
        var rng = new Random(4);
        Vector512<float>* p = stackalloc Vector512<float>[16];
        var expected = new float[16];
        for (int k = 0; k < 16; k++)
        {
            var lanes = new float[16];
            for (int i = 0; i < 16; i++) lanes[i] = (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-3, 4)));
            p[k] = Vector512.Create(lanes);
            expected[k] = GgmlExp.ReduceAdd(p[k]);
        }
        Vector512<float> got = TiledAttention.ReduceAdd16(p);
        for (int k = 0; k < 16; k++) Assert.Equal(expected[k], got[k]);
    }

    [Fact]
    public void RoundingToHalfMatchesTheConversion()
    {
        if (!TiledAttention.Available) return;
        var rng = new Random(6);
        var x = new float[4096];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)((rng.NextDouble() - 0.5) * Math.Pow(2, rng.Next(-30, 18)));
        }
        // edges: subnormal ties, the normal boundary, overflow, specials
        float[] edges = [0f, -0f, 5.96e-8f, 2.98e-8f, 8.94e-8f, 6.1035e-5f, 6.1e-5f, 65504f, 65519f, 65520f, 1e6f, float.PositiveInfinity, float.NaN, -3.0e-6f, 1f + 1f / 2048];
        edges.CopyTo(x, 0);
        var got = new float[x.Length];
        fixed (float* px = x, pg = got)
        {
            TiledAttention.RoundToHalf(px, pg, x.Length);
        }
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits((float)(Half)x[i]), BitConverter.SingleToInt32Bits(got[i]));
        }
    }

    [Fact]
    public void WideningSixteenHalvesIsExactForEveryValue()
    {
        if (!TiledAttention.Available) return;
        var all = new ushort[65536];
        for (int i = 0; i < all.Length; i++) all[i] = (ushort)i;
        fixed (ushort* p = all)
        {
            for (int i = 0; i < all.Length; i += 16)
            {
                Vector512<float> v = Fp16x16.Load(p + i);
                for (int k = 0; k < 16; k++)
                {
                    float expected = HalfConversions.Fp16ToFp32(all[i + k]);
                    if (float.IsNaN(expected)) Assert.True(float.IsNaN(v[k]));
                    else Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(v[k]));
                }
            }
        }
    }

    /// <summary>A one-layer cache with two KV heads (the tests read head 1) and random queries for a group.</summary>
    private static (global::LongCtx.KvCache.KvCache Cache, float[] Queries) Setup(int kd, int vd, int group, int count, int seed)
    {
        var config = new ModelConfig
        {
            Architecture = Architecture.Llama, VocabSize = 300, ContextLength = 4096, EmbeddingLength = kd * group * 2, BlockCount = 1,
            FeedForwardLength = 64, HeadCount = group * 2, HeadCountKv = 2, HeadDim = kd, ValueHeadDim = vd, RmsEpsilon = 1e-5f,
            RopeDimensions = kd, RopeFreqBase = 10000f, RopeFreqScale = 1f,
        };
        var cache = new global::LongCtx.KvCache.KvCache(config, count + 8, KvCacheType.F16);
        var rng = new Random(seed);
        var k = new float[2 * kd];
        var v = new float[2 * vd];
        for (int pos = 0; pos < count; pos++)
        {
            for (int i = 0; i < k.Length; i++) k[i] = (float)(rng.NextDouble() * 4 - 2);
            for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
            cache.Write(0, pos, k, v);
        }
        var q = new float[group * kd];
        for (int i = 0; i < q.Length; i++) q[i] = (float)(rng.NextDouble() * 2 - 1);
        return (cache, q);
    }
}
