using LongCtx.Generation;
using LongCtx.KvCache;
using LongCtx.KvCache.Presses;
using LongCtx.Models;
using LongCtx.Tensors;

namespace LongCtx.Tests.KvCache;

/// <summary>
/// KV blocks move a shared prefix between sessions (the server's prefix cache): a session that
/// starts from another's copied prefix computes exactly what a fresh prefill computes.
/// </summary>
public sealed class KvBlockTests(TempDirFixture dir) : IClassFixture<TempDirFixture>
{
    private const int Shared = 96, Batch = 16, Steps = 12;

    [Theory]
    [InlineData(KvCacheType.F16)]
    [InlineData(KvCacheType.F32)]
    public void APrefixCopiedFromAnotherSessionGivesTheFreshPrefillBitForBit(KvCacheType type)
    {
        using Model model = Load();
        int[] first = Tokens(model, 1, Shared + 40);
        int[] second = [.. first[..Shared], .. Tokens(model, 2, 30)];
        var options = new SessionOptions { ContextSize = 256, BatchSize = Batch, KvCacheType = type };

        var donor = new Session(model, options);
        donor.Prefill(first);
        var reused = new Session(model, options);
        // Two blocks, as the prefix cache stores them (fixed-size pieces of the prefix).
        reused.AppendBlock(donor.Cache.CopyBlock(0, Shared / 2));
        reused.AppendBlock(donor.Cache.CopyBlock(Shared / 2, Shared / 2));
        Assert.Equal(Shared, reused.Position);
        float[] reusedLogits = reused.Prefill(second.AsSpan(Shared)).ToArray();

        var fresh = new Session(model, options);
        float[] freshLogits = fresh.Prefill(second).ToArray();
        Assert.True(freshLogits.AsSpan().SequenceEqual(reusedLogits), "the logits after the new tokens differ");

        // Greedy decoding from both gives the same tokens, step for step, with identical logits.
        var a = new List<int>();
        var b = new List<int>();
        for (int step = 0; step < Steps; step++)
        {
            int ta = Greedy.Argmax(freshLogits), tb = Greedy.Argmax(reusedLogits);
            a.Add(ta);
            b.Add(tb);
            freshLogits = fresh.Decode(ta).ToArray();
            reusedLogits = reused.Decode(tb).ToArray();
            Assert.True(freshLogits.AsSpan().SequenceEqual(reusedLogits), $"logits differ at decode step {step}");
        }
        Assert.Equal(a, b);
        Assert.Equal(fresh.Cache.TotalCount, reused.Cache.TotalCount);
    }

    [Fact]
    public void ABlockHoldsEveryHeadsRowsAndCountsItsBytes()
    {
        using Model model = Load();
        ModelConfig c = model.Config;
        var session = new Session(model, new SessionOptions { ContextSize = 128 });
        session.Prefill(Tokens(model, 3, 40));
        KvBlock block = session.Cache.CopyBlock(8, 16);
        Assert.Equal((8, 16, KvCacheType.F16), (block.Start, block.Count, block.Type));
        Assert.Equal((long)c.BlockCount * c.HeadCountKv * 16 * (c.HeadDim + c.ValueHeadDim) * 2, block.Bytes);

        // Appending [0, 8) then [8, 24) rebuilds the same rows the session holds.
        var copy = new Session(model, new SessionOptions { ContextSize = 128 });
        copy.AppendBlock(session.Cache.CopyBlock(0, 8));
        copy.AppendBlock(block);
        var want = new float[c.HeadDim];
        var got = new float[c.HeadDim];
        for (int l = 0; l < c.BlockCount; l++)
        {
            for (int h = 0; h < c.HeadCountKv; h++)
            {
                Assert.Equal(Enumerable.Range(0, 24), copy.Cache.Positions(l, h).ToArray());
                for (int j = 0; j < 24; j++)
                {
                    session.Cache.Head(l, h).ReadKey(j, want);
                    copy.Cache.Head(l, h).ReadKey(j, got);
                    Assert.Equal(want, got);
                    session.Cache.Head(l, h).ReadValue(j, want);
                    copy.Cache.Head(l, h).ReadValue(j, got);
                    Assert.Equal(want, got);
                }
            }
        }
    }

    [Fact]
    public void BlocksRefuseWhatTheyCannotCopyExactly()
    {
        using Model model = Load();
        var options = new SessionOptions { ContextSize = 128 };
        var session = new Session(model, options);
        session.Prefill(Tokens(model, 4, 40));
        KvBlock head = session.Cache.CopyBlock(0, 16), tail = session.Cache.CopyBlock(16, 16);

        var target = new Session(model, options);
        Assert.Contains("starts at position 16; the session is at position 0", Assert.Throws<ArgumentException>(() => target.AppendBlock(tail)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => session.Cache.CopyBlock(0, 0));
        Assert.Contains("does not hold positions [32, 48)", Assert.Throws<InvalidOperationException>(() => session.Cache.CopyBlock(32, 16)).Message);

        var f32 = new Session(model, options with { KvCacheType = KvCacheType.F32 });
        Assert.Contains("does not fit a cache", Assert.Throws<ArgumentException>(() => f32.AppendBlock(head)).Message);
        var small = new Session(model, options with { ContextSize = 24 });
        small.AppendBlock(head);
        Assert.Contains("exceeds the cache capacity", Assert.Throws<ArgumentException>(() => small.AppendBlock(tail)).Message);

        // A compressed cache is not a prefix anyone else computes: it cannot be copied.
        var pressed = new Session(model, options);
        pressed.Prefill(Tokens(model, 4, 40), new StreamingLlmPress { Ratio = 0.5 });
        Assert.Contains("only an uncompressed prefix can be copied", Assert.Throws<InvalidOperationException>(() => pressed.Cache.CopyBlock(0, 16)).Message);
    }

    private Model Load()
    {
        string path = Path.Combine(dir.Path, "qwen2.gguf");
        lock (typeof(KvBlockTests))
        {
            if (!File.Exists(path))
            {
                SyntheticModel.Write(path, new SyntheticShape { Architecture = "qwen2", BlockCount = 2 }, GgmlType.Q8_0, seed: 5);
            }
        }
        return Model.Load(path, new ModelOptions { Threads = 2 });
    }

    private static int[] Tokens(Model model, int seed, int n)
    {
        var rng = new Random(seed);
        var tokens = new int[n];
        for (int i = 0; i < n; i++) tokens[i] = rng.Next(model.Config.VocabSize - 2);
        return tokens;
    }
}
