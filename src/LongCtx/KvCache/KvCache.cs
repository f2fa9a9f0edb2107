using LongCtx.Models;

namespace LongCtx.KvCache;

/// <summary>
/// Keys and values of every layer for one sequence, held per (layer, KV head) so that each head
/// can keep its own entries: a press removes, re-encodes (quantizes) or prunes the key channels of
/// entries and the memory is released. Every entry keeps its original position (RoPE was applied
/// when it was written). Entries of a head are in position order; with no method applied every
/// head holds positions 0, 1, 2, … and attention reads exactly what a dense cache would hold.
/// </summary>
public sealed class KvCache
{
    private readonly KvHeadStore[] _heads;

    /// <summary>Creates an empty cache for up to <paramref name="capacity"/> positions; storage grows with use.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1.</exception>
    public KvCache(ModelConfig config, int capacity, KvCacheType type)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        Type = type;
        LayerCount = config.BlockCount;
        HeadCountKv = config.HeadCountKv;
        KeyDim = config.HeadDim;
        ValueDim = config.ValueHeadDim;
        _heads = new KvHeadStore[LayerCount * HeadCountKv];
        for (int i = 0; i < _heads.Length; i++)
        {
            _heads[i] = new KvHeadStore(type, KeyDim, ValueDim, capacity);
        }
    }

    /// <summary>Positions the cache can hold.</summary>
    public int Capacity { get; }
    /// <summary>Element type of the full-precision entries.</summary>
    public KvCacheType Type { get; }
    /// <summary>Layers.</summary>
    public int LayerCount { get; }
    /// <summary>KV heads per layer.</summary>
    public int HeadCountKv { get; }
    /// <summary>The model's key head dimension.</summary>
    public int KeyDim { get; }
    /// <summary>Value head dimension.</summary>
    public int ValueDim { get; }

    /// <summary>Bytes actually held by keys, values, positions and any per-entry state, over all heads.</summary>
    public long Bytes
    {
        get
        {
            long sum = 0;
            foreach (KvHeadStore h in _heads)
            {
                sum += h.Bytes;
            }
            return sum;
        }
    }

    /// <summary>Entries held over all layers and heads.</summary>
    public long TotalCount
    {
        get
        {
            long sum = 0;
            foreach (KvHeadStore h in _heads)
            {
                sum += h.Count;
            }
            return sum;
        }
    }

    /// <summary>Whether the accumulated attention of each entry is tracked (H2O).</summary>
    public bool TracksAttention { get; private set; }

    /// <summary>Entries held by one head.</summary>
    public int Count(int layer, int kvHead) => Store(layer, kvHead).Count;

    /// <summary>Original positions of one head's entries, ascending.</summary>
    public ReadOnlySpan<int> Positions(int layer, int kvHead) => Store(layer, kvHead).Positions;

    /// <summary>What attention reads of one head (valid until the cache changes).</summary>
    public KvHeadView Head(int layer, int kvHead) => Store(layer, kvHead).View();

    /// <summary>A counter that changes whenever a head's entries are removed or re-encoded (not on append).</summary>
    public int Version(int layer, int kvHead) => Store(layer, kvHead).Version;

    /// <summary>The accumulated attention of one head's entries (empty unless <see cref="TracksAttention"/>).</summary>
    public Span<float> AccumulatedAttention(int layer, int kvHead) => Store(layer, kvHead).Attention;

    /// <summary>The quantization of one head, or null when it is all full precision.</summary>
    public KvQuantization? Quantization(int layer, int kvHead) => Store(layer, kvHead).Quantization;

    /// <summary>Appends the keys and values of one token at <paramref name="position"/> to every head of <paramref name="layer"/>.</summary>
    /// <param name="layer">Layer index.</param>
    /// <param name="position">Position of the token; after every position held.</param>
    /// <param name="k">n_kv_head × key dim.</param>
    /// <param name="v">n_kv_head × value dim.</param>
    /// <exception cref="InvalidOperationException">The position is not after the last one held.</exception>
    public void Write(int layer, int position, ReadOnlySpan<float> k, ReadOnlySpan<float> v)
    {
        for (int h = 0; h < HeadCountKv; h++)
        {
            _heads[layer * HeadCountKv + h].Append(position, k.Slice(h * KeyDim, KeyDim), v.Slice(h * ValueDim, ValueDim));
        }
    }

    /// <summary>Makes room in every head for <paramref name="more"/> entries after those it holds (capped at <see cref="Capacity"/>), so appending them does not reallocate.</summary>
    public void Reserve(int more)
    {
        foreach (KvHeadStore head in _heads)
        {
            head.Reserve(more);
        }
    }

    /// <summary>Keeps only the entries at <paramref name="indices"/> (strictly ascending) of one head; memory is released.</summary>
    /// <exception cref="ArgumentException">Indices not strictly ascending or out of range.</exception>
    public void Keep(int layer, int kvHead, ReadOnlySpan<int> indices) => Store(layer, kvHead).Keep(indices);

    /// <summary>Keeps only the key channels <paramref name="channels"/> (strictly ascending, of the stored ones) of one head (ThinK).</summary>
    /// <exception cref="ArgumentException">Empty, not ascending or out of range.</exception>
    public void PruneKeyChannels(int layer, int kvHead, ReadOnlySpan<int> channels) => Store(layer, kvHead).PruneKeyChannels(channels);

    /// <summary>Quantizes the entries of one head older than the format's window; later entries follow as they age.</summary>
    public void Quantize(int layer, int kvHead, KvQuantization format) => Store(layer, kvHead).Quantize(format);

    /// <summary>
    /// Copies the keys and values of positions [<paramref name="start"/>, start + count) of every head
    /// into a new <see cref="KvBlock"/>. Every head must hold those positions densely: full precision,
    /// every key channel, entry i at position i (a cache no press has touched).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1 or <paramref name="start"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">A head does not hold the range densely (named).</exception>
    public KvBlock CopyBlock(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        int rowsK = count * KeyDim, rowsV = count * ValueDim, n = _heads.Length;
        bool f16 = Type == KvCacheType.F16;
        Half[]? k16 = f16 ? new Half[n * rowsK] : null, v16 = f16 ? new Half[n * rowsV] : null;
        float[]? k32 = f16 ? null : new float[n * rowsK], v32 = f16 ? null : new float[n * rowsV];
        for (int i = 0; i < n; i++)
        {
            KvHeadStore h = _heads[i];
            if (!h.IsDense(start, count))
            {
                throw new InvalidOperationException(
                    $"KV cache: (layer {i / HeadCountKv}, KV head {i % HeadCountKv}) does not hold positions [{start}, {start + count}) as plain rows " +
                    $"({h.Count} entries{(h.Quantization != null ? ", quantized" : "")}); only an uncompressed prefix can be copied");
            }
            h.CopyRows(start, count,
                f16 ? k16.AsSpan(i * rowsK, rowsK) : default, f16 ? v16.AsSpan(i * rowsV, rowsV) : default,
                f16 ? default : k32.AsSpan(i * rowsK, rowsK), f16 ? default : v32.AsSpan(i * rowsV, rowsV));
        }
        return new KvBlock(Type, start, count, LayerCount, HeadCountKv, KeyDim, ValueDim, k16, v16, k32, v32);
    }

    /// <summary>
    /// Appends a block copied from a cache of the same model and type. Every head must hold exactly
    /// positions 0 … <see cref="KvBlock.Start"/> − 1 as plain rows (an empty cache for a block at 0).
    /// </summary>
    /// <exception cref="ArgumentException">The block's shape or type is not this cache's, or it would exceed the capacity.</exception>
    /// <exception cref="InvalidOperationException">A head does not end densely at the block's start (named).</exception>
    public void AppendBlock(KvBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        if (block.Type != Type || block.LayerCount != LayerCount || block.HeadCountKv != HeadCountKv || block.KeyDim != KeyDim || block.ValueDim != ValueDim)
        {
            throw new ArgumentException(
                $"KV block of {block.LayerCount} layers × {block.HeadCountKv} KV heads × ({block.KeyDim}+{block.ValueDim}) {block.Type} does not fit a cache of " +
                $"{LayerCount} × {HeadCountKv} × ({KeyDim}+{ValueDim}) {Type}", nameof(block));
        }
        if (block.Start + block.Count > Capacity)
        {
            throw new ArgumentException($"KV block [{block.Start}, {block.Start + block.Count}) exceeds the cache capacity of {Capacity} positions", nameof(block));
        }
        for (int i = 0; i < _heads.Length; i++)
        {
            KvHeadStore h = _heads[i];
            if (h.Count != block.Start || !h.IsDense(0, h.Count))
            {
                throw new InvalidOperationException(
                    $"KV cache: (layer {i / HeadCountKv}, KV head {i % HeadCountKv}) holds {h.Count} entries, not exactly positions [0, {block.Start}) as plain rows; " +
                    "a block is appended right after the positions before it");
            }
        }
        int rowsK = block.Count * KeyDim, rowsV = block.Count * ValueDim;
        for (int i = 0; i < _heads.Length; i++)
        {
            if (Type == KvCacheType.F16)
            {
                _heads[i].AppendRows(block.Count, block.K16.AsSpan(i * rowsK, rowsK), block.V16.AsSpan(i * rowsV, rowsV), default, default);
            }
            else
            {
                _heads[i].AppendRows(block.Count, default, default, block.K32.AsSpan(i * rowsK, rowsK), block.V32.AsSpan(i * rowsV, rowsV));
            }
        }
    }

    /// <summary>Removes every entry at a position ≥ <paramref name="position"/> (e.g. rejected draft tokens).</summary>
    public void RemoveFrom(int position)
    {
        foreach (KvHeadStore h in _heads)
        {
            h.RemoveFrom(position);
        }
    }

    /// <summary>Starts or stops tracking accumulated attention (existing entries start at zero).</summary>
    public void TrackAttention(bool on)
    {
        if (on == TracksAttention)
        {
            return;
        }
        TracksAttention = on;
        foreach (KvHeadStore h in _heads)
        {
            h.TrackAttention(on);
        }
    }

    /// <summary>Drops every entry and releases the storage.</summary>
    public void Clear()
    {
        foreach (KvHeadStore h in _heads)
        {
            h.Clear();
        }
    }

    private KvHeadStore Store(int layer, int kvHead)
    {
        if ((uint)layer >= (uint)LayerCount || (uint)kvHead >= (uint)HeadCountKv)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), $"KV cache: (layer {layer}, KV head {kvHead}) outside {LayerCount} layers × {HeadCountKv} KV heads");
        }
        return _heads[layer * HeadCountKv + kvHead];
    }
}
