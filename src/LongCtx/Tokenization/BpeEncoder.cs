using System.Collections.Concurrent;
using LongCtx.Gguf;

namespace LongCtx.Tokenization;

/// <summary>
/// Byte-level BPE over one pre-tokenized word (llama.cpp's <c>llm_tokenizer_bpe_session</c>):
/// start from one token per byte, then repeatedly merge the adjacent pair with the lowest merge
/// rank (the leftmost on ties) until no pair has a rank. Pairs wait in a priority queue and
/// symbols form a linked list, so a word of n bytes costs O(n log n); stale queue entries are
/// recognised by the token ids they were queued with.
/// </summary>
internal sealed class BpeEncoder
{
    private const int Dead = int.MinValue;

    // Words repeat (English text: a few thousand distinct words per megabyte), so each word's
    // tokens are kept, keyed by its byte-level text, up to a bound that caps the memory.
    private const int CacheLimit = 50_000;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
    private int _cached;   // ConcurrentDictionary.Count takes every lock

    // (left id << 32 | right id) → (rank, merged id). Ids, not strings: no allocation while merging.
    private readonly Dictionary<long, (int Rank, int Merged)> _merges;
    private readonly int[] _byteTokens = new int[256];
    private readonly Vocabulary _vocab;

    private BpeEncoder(Vocabulary vocab, Dictionary<long, (int, int)> merges)
    {
        _vocab = vocab;
        _merges = merges;
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        for (int b = 0; b < 256; b++)
        {
            _byteTokens[b] = vocab.Ids.GetValueOrDefault(ByteLevel.ToChar((byte)b).ToString(), -1);
        }
    }

    /// <summary>Reads <c>tokenizer.ggml.merges</c>: "left right" in rank order (the first of duplicates wins).</summary>
    /// <exception cref="GgufFormatException">The merges are missing, malformed, or name a token the vocabulary lacks.</exception>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // runs once per load, over 100K+ entries
    public static BpeEncoder Create(GgufFile file, Vocabulary vocab)
    {
        if (!file.Contains(GgufKeys.TokenizerMerges))
        {
            throw new GgufFormatException(file.FilePath, $"'{GgufKeys.TokenizerMerges}' is missing: a '{vocab.Model}' (byte-level BPE) vocabulary needs its merges");
        }
        string[] lines = file.GetArray<string>(GgufKeys.TokenizerMerges);
        var merges = new Dictionary<long, (int, int)>(lines.Length);
        var lookup = vocab.IdsBySpan;
        char[] joined = new char[64];
        for (int rank = 0; rank < lines.Length; rank++)
        {
            string line = lines[rank];
            int space = line.Length > 1 ? line.IndexOf(' ', 1) : -1;
            if (space < 0)
            {
                throw new GgufFormatException(file.FilePath, $"'{GgufKeys.TokenizerMerges}' entry {rank} \"{line}\" is not two tokens separated by a space");
            }
            ReadOnlySpan<char> left = line.AsSpan(0, space), right = line.AsSpan(space + 1);
            if (!lookup.TryGetValue(left, out int l) || !lookup.TryGetValue(right, out int r))
            {
                string missing = lookup.ContainsKey(left) ? right.ToString() : left.ToString();
                throw new GgufFormatException(file.FilePath, $"'{GgufKeys.TokenizerMerges}' entry {rank} \"{line}\" names '{missing}', which is not a token of the vocabulary");
            }
            if (joined.Length < line.Length)
            {
                joined = new char[line.Length * 2];
            }
            left.CopyTo(joined);
            right.CopyTo(joined.AsSpan(left.Length));
            if (!lookup.TryGetValue(joined.AsSpan(0, line.Length - 1), out int merged))
            {
                throw new GgufFormatException(file.FilePath, $"'{GgufKeys.TokenizerMerges}' entry {rank} \"{line}\" makes '{string.Concat(left, right)}', which is not a token of the vocabulary");
            }
            merges.TryAdd(Key(l, r), (rank, merged));
        }
        return new BpeEncoder(vocab, merges);
    }

    public int MergeCount => _merges.Count;

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>Appends the tokens of one word given as UTF-8 bytes.</summary>
    public void EncodeWord(ReadOnlySpan<byte> word, bool ignoreMerges, BpeScratch s, List<int> output)
    {
        int n = word.Length;
        if (n == 0)
        {
            return;
        }
        Span<char> chars = s.Chars(n);
        for (int i = 0; i < n; i++)
        {
            chars[i] = ByteLevel.ToChar(word[i]);
        }
        if ((ignoreMerges || n == 1) && _vocab.IdsBySpan.TryGetValue(chars, out int whole))
        {
            // llama3-style vocabularies take a word that is a token as is, without merging.
            output.Add(whole);
            return;
        }
        if (_cacheBySpan.TryGetValue(chars, out int[]? cached))
        {
            output.AddRange(cached);
            return;
        }
        int first = output.Count;
        Merge(word, s, output);
        if (Volatile.Read(ref _cached) < CacheLimit && _cache.TryAdd(new string(chars), output[first..].ToArray()))
        {
            Interlocked.Increment(ref _cached);
        }
    }

    private void Merge(ReadOnlySpan<byte> word, BpeScratch s, List<int> output)
    {
        int n = word.Length;
        s.Reset(n);
        int[] ids = s.Ids, prev = s.Prev, next = s.Next;
        for (int i = 0; i < n; i++)
        {
            ids[i] = _byteTokens[word[i]];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        var queue = s.Queue;
        for (int i = 0; i + 1 < n; i++)
        {
            Push(queue, ids, i, i + 1);
        }
        while (queue.TryDequeue(out (int Left, int Right, int LeftId, int RightId, int Merged) b, out _))
        {
            if (ids[b.Left] != b.LeftId || ids[b.Right] != b.RightId || next[b.Left] != b.Right)
            {
                continue;   // one side changed since this pair was queued
            }
            ids[b.Left] = b.Merged;
            ids[b.Right] = Dead;
            int after = next[b.Right];
            next[b.Left] = after;
            if (after >= 0)
            {
                prev[after] = b.Left;
            }
            if (prev[b.Left] >= 0)
            {
                Push(queue, ids, prev[b.Left], b.Left);
            }
            if (after >= 0)
            {
                Push(queue, ids, b.Left, after);
            }
        }
        for (int i = 0; i >= 0; i = next[i])
        {
            // A byte with no token of its own is dropped, as llama.cpp drops it.
            if (ids[i] >= 0)
            {
                output.Add(ids[i]);
            }
        }
    }

    private void Push(PriorityQueue<(int, int, int, int, int), long> queue, int[] ids, int left, int right)
    {
        int l = ids[left], r = ids[right];
        if (l >= 0 && r >= 0 && _merges.TryGetValue(Key(l, r), out var merge))
        {
            queue.Enqueue((left, right, l, r, merge.Merged), ((long)merge.Rank << 32) | (uint)left);
        }
    }
}

/// <summary>Reusable buffers of one encode call (the tokenizer itself is shared and stateless).</summary>
internal sealed class BpeScratch
{
    private char[] _chars = new char[64];

    public int[] Ids { get; private set; } = new int[64];
    public int[] Prev { get; private set; } = new int[64];
    public int[] Next { get; private set; } = new int[64];
    public PriorityQueue<(int, int, int, int, int), long> Queue { get; } = new();

    public void Reset(int n)
    {
        if (Ids.Length < n)
        {
            int size = Math.Max(n, Ids.Length * 2);
            Ids = new int[size];
            Prev = new int[size];
            Next = new int[size];
        }
        Queue.Clear();
    }

    public Span<char> Chars(int n)
    {
        if (_chars.Length < n)
        {
            _chars = new char[Math.Max(n, _chars.Length * 2)];
        }
        return _chars.AsSpan(0, n);
    }
}
