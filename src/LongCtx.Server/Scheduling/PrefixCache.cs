using System.Runtime.InteropServices;
using LongCtx.KvCache;

namespace LongCtx.Server.Scheduling;

/// <summary>
/// KV of prompt prefixes, reused across requests: a radix tree over fixed-size token blocks (a node
/// per block, children keyed by the block's token ids, as vLLM's block hashing chains blocks by
/// prefix and SGLang's RadixAttention shares them in a tree), holding each block's keys and values
/// for every layer and head (<see cref="KvBlock"/>). A new sequence copies the longest cached prefix
/// of its prompt into its empty session and prefills only the rest; after its prefill, the prompt's
/// whole blocks that were not cached yet are copied in. Least recently used leaves are evicted to
/// stay within the byte budget.
/// </summary>
/// <remarks>
/// <para>Blocks are copied on a hit, not shared: a session owns its cache (and may compress or
/// truncate it), so nothing here is pinned by a running sequence and eviction never waits. The copy
/// costs a memory pass over the prefix, far less than recomputing it.</para>
/// <para>Only KV written by a plain prefill enters the tree: a pressed cache is not what a fresh
/// prefill computes, and decode-step KV is computed one token at a time (a different summation
/// order than a batched prefill), so generated tokens are not inserted either. A hit thus gives
/// exactly the fresh prefill's results when the prefill chunks fall at the same positions, which
/// the scheduler keeps (chunks end at multiples of the chunk size).</para>
/// <para>LRU order: touching a path moves its nodes to the front from the leaf up, so a parent is
/// always more recent than its children and the list's last node is always a leaf.</para>
/// <para>Not thread-safe: only the scheduler thread uses it.</para>
/// </remarks>
internal sealed class PrefixCache
{
    private readonly Node _root = new(default, null, null);
    private readonly LinkedList<Node> _lru = [];   // first = most recently used
    private readonly ServerMetrics _metrics;

    public PrefixCache(int blockTokens, long budgetBytes, ServerMetrics metrics)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(budgetBytes, 1);
        BlockTokens = blockTokens;
        BudgetBytes = budgetBytes;
        _metrics = metrics;
    }

    /// <summary>Tokens per block: prefixes are reused in multiples of it.</summary>
    public int BlockTokens { get; }
    /// <summary>Most bytes the cached blocks may hold.</summary>
    public long BudgetBytes { get; }
    /// <summary>Bytes held by the cached blocks (keys, values and token ids).</summary>
    public long Bytes { get; private set; }
    /// <summary>Blocks held.</summary>
    public int BlockCount => _lru.Count;

    /// <summary>
    /// The blocks of the longest cached prefix of <paramref name="tokens"/> that is at most
    /// <paramref name="maxTokens"/> long, in order (empty on a miss); they become the most recently used.
    /// </summary>
    public List<KvBlock> Match(ReadOnlySpan<int> tokens, int maxTokens)
    {
        var blocks = new List<KvBlock>();
        Node node = _root;
        for (int at = 0; at + BlockTokens <= Math.Min(maxTokens, tokens.Length); at += BlockTokens)
        {
            if (node.Children is null || !node.Children.TryGetValue(BlockKey.Of(tokens.Slice(at, BlockTokens)), out Node? child))
            {
                break;
            }
            blocks.Add(child.Block!);
            node = child;
        }
        Touch(node);
        _metrics.PrefixLookup(tokens.Length, blocks.Count * BlockTokens);
        return blocks;
    }

    /// <summary>
    /// Copies the whole blocks of <paramref name="tokens"/> that are not cached yet out of
    /// <paramref name="cache"/> (which holds those tokens' KV densely from position 0), evicting
    /// least recently used blocks for room. Stops early when the budget cannot hold the next block.
    /// </summary>
    public void Insert(ReadOnlySpan<int> tokens, KvCache.KvCache cache)
    {
        Node node = _root;
        int at = 0;
        // Walk what is cached already.
        for (; at + BlockTokens <= tokens.Length; at += BlockTokens)
        {
            if (node.Children is null || !node.Children.TryGetValue(BlockKey.Of(tokens.Slice(at, BlockTokens)), out Node? child))
            {
                break;
            }
            node = child;
        }
        Touch(node);   // the path is now the most recent: eviction takes other leaves first
        for (; at + BlockTokens <= tokens.Length; at += BlockTokens)
        {
            long need = BlockBytes(cache);
            if (!MakeRoom(need, node))
            {
                break;
            }
            BlockKey key = BlockKey.Of(tokens.Slice(at, BlockTokens));
            var child = new Node(key, node, cache.CopyBlock(at, BlockTokens));
            (node.Children ??= []).Add(key, child);
            child.Lru = _lru.AddFirst(child);
            Bytes += need;
            node = child;
        }
        Touch(node);
        _metrics.PrefixCacheSize(Bytes, BlockCount);
    }

    /// <summary>Drops every block.</summary>
    public void Clear()
    {
        _root.Children = null;
        _lru.Clear();
        Bytes = 0;
        _metrics.PrefixCacheSize(Bytes, BlockCount);
    }

    private long BlockBytes(KvCache.KvCache cache) =>
        (long)cache.LayerCount * cache.HeadCountKv * BlockTokens * (cache.KeyDim + cache.ValueDim) * (cache.Type == KvCacheType.F16 ? 2 : 4)
        + 4L * BlockTokens;

    /// <summary>Evicts LRU leaves until <paramref name="need"/> more bytes fit; false when only <paramref name="keep"/>'s path is left.</summary>
    private bool MakeRoom(long need, Node keep)
    {
        if (need > BudgetBytes)
        {
            return false;
        }
        while (Bytes + need > BudgetBytes)
        {
            Node? victim = _lru.Last?.Value;
            if (victim is null || IsOnPath(victim, keep))
            {
                return false;
            }
            _lru.RemoveLast();
            victim.Parent!.Children!.Remove(victim.Key);
            Bytes -= victim.Block!.Bytes + 4L * BlockTokens;
            _metrics.PrefixEvicted();
        }
        return true;
    }

    private static bool IsOnPath(Node candidate, Node leaf)
    {
        for (Node? n = leaf; n != null; n = n.Parent)
        {
            if (n == candidate)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Moves <paramref name="leaf"/> and its ancestors to the front, the leaf first (so each parent ends ahead of its child).</summary>
    private void Touch(Node leaf)
    {
        for (Node? n = leaf; n?.Lru != null; n = n.Parent)
        {
            _lru.Remove(n.Lru);
            _lru.AddFirst(n.Lru);
        }
    }

    private sealed class Node(BlockKey key, Node? parent, KvBlock? block)
    {
        public BlockKey Key { get; } = key;
        public Node? Parent { get; } = parent;
        public KvBlock? Block { get; } = block;
        public Dictionary<BlockKey, Node>? Children { get; set; }
        public LinkedListNode<Node>? Lru { get; set; }
    }

    /// <summary>The token ids of one block, compared by value.</summary>
    private readonly struct BlockKey : IEquatable<BlockKey>
    {
        private readonly int[] _tokens;
        private readonly int _hash;

        private BlockKey(int[] tokens)
        {
            _tokens = tokens;
            var h = new HashCode();
            h.AddBytes(MemoryMarshal.AsBytes(tokens.AsSpan()));
            _hash = h.ToHashCode();
        }

        public static BlockKey Of(ReadOnlySpan<int> tokens) => new(tokens.ToArray());

        public bool Equals(BlockKey other) => _tokens.AsSpan().SequenceEqual(other._tokens);
        public override bool Equals(object? obj) => obj is BlockKey other && Equals(other);
        public override int GetHashCode() => _hash;
    }
}
