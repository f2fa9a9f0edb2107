using LongCtx.Generation;
using LongCtx.Models;
using LongCtx.Server.Scheduling;
using LongCtx.Tests.Reference;

namespace LongCtx.Tests.Server;

/// <summary>The prefix cache's radix tree on its own: shared blocks stored once, longest match, LRU eviction under the budget.</summary>
public sealed class PrefixCacheTreeTests : IDisposable
{
    private const int Block = 16;
    private readonly TempDir _dir = new();
    private readonly Model _model;
    private readonly long _blockBytes;

    public PrefixCacheTreeTests()
    {
        _model = Model.Load(TinyLlamaFile.Write(_dir.File("tiny.gguf")), new ModelOptions { Threads = 1 });
        ModelConfig c = _model.Config;
        _blockBytes = (long)c.BlockCount * c.HeadCountKv * Block * (c.HeadDim + c.ValueHeadDim) * 2 + 4 * Block;
    }

    [Fact]
    public void SharedPrefixBlocksAreStoredOnceAndTheLongestWholeBlockPrefixMatches()
    {
        var cache = new PrefixCache(Block, 1 << 30, new ServerMetrics());
        int[] prefix = Tokens(1, 40), a = [.. prefix, .. Tokens(2, 30)], b = [.. prefix, .. Tokens(3, 30)];
        Insert(cache, a);
        Assert.Equal(70 / Block, cache.BlockCount);
        Insert(cache, b);
        Assert.Equal(70 / Block + (70 / Block - 40 / Block), cache.BlockCount);   // b adds only the blocks after the shared ones
        Assert.Equal(cache.BlockCount * _blockBytes, cache.Bytes);

        Assert.Equal(70 / Block, cache.Match(b, b.Length).Count);
        Assert.Equal(40 / Block, cache.Match([.. prefix, .. Tokens(4, 30)], 100).Count);
        Assert.Equal(3, cache.Match(a.AsSpan(0, 64), 63).Count);   // at most maxTokens: a prompt keeps a token to prefill
        Assert.Empty(cache.Match(Tokens(5, 70), 70));
        List<LongCtx.KvCache.KvBlock> blocks = cache.Match(a, a.Length);
        Assert.Equal(Enumerable.Range(0, blocks.Count).Select(i => i * Block), blocks.Select(x => x.Start));
    }

    [Fact]
    public void TheLeastRecentlyUsedLeavesGoFirstAndTheBudgetHolds()
    {
        var cache = new PrefixCache(Block, 10 * _blockBytes, new ServerMetrics());
        int[] a = Tokens(1, 64), b = Tokens(2, 64), c = Tokens(3, 64);
        Insert(cache, a);
        Insert(cache, b);
        Assert.Equal(8, cache.BlockCount);
        cache.Match(a, 64);   // a is now the more recent
        Insert(cache, c);     // needs 4 blocks of room: b's last two go
        Assert.Equal(10, cache.BlockCount);
        Assert.True(cache.Bytes <= cache.BudgetBytes);
        Assert.Equal(4, cache.Match(a, 64).Count);
        Assert.Equal(4, cache.Match(c, 64).Count);
        Assert.Equal(2, cache.Match(b, 64).Count);

        // A block over the whole budget is never stored; the rest stays.
        var tiny = new PrefixCache(Block, _blockBytes - 1, new ServerMetrics());
        Insert(tiny, a);
        Assert.Equal((0, 0L), (tiny.BlockCount, tiny.Bytes));
    }

    [Fact]
    public void AnInsertThatOutgrowsTheBudgetKeepsItsOwnPath()
    {
        var cache = new PrefixCache(Block, 3 * _blockBytes, new ServerMetrics());
        Insert(cache, Tokens(1, 32));
        Insert(cache, Tokens(2, 96));   // evicts the other prompt, then stops at three of its own six blocks
        Assert.Equal(3, cache.BlockCount);
        Assert.Equal(3, cache.Match(Tokens(2, 96), 96).Count);
        Assert.Empty(cache.Match(Tokens(1, 32), 32));
    }

    private void Insert(PrefixCache cache, int[] tokens)
    {
        var session = new Session(_model, new SessionOptions { ContextSize = 256 });
        session.Prefill(tokens);
        cache.Insert(tokens, session.Cache);
    }

    private static int[] Tokens(int seed, int n)
    {
        var rng = new Random(seed);
        var tokens = new int[n];
        for (int i = 0; i < n; i++) tokens[i] = rng.Next(TinyLlamaFile.VocabSize - 3);
        return tokens;
    }

    public void Dispose()
    {
        _model.Dispose();
        _dir.Dispose();
    }
}
