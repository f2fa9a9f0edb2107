namespace LongCtx.KvCache;

/// <summary>
/// A copy of the keys and values of <see cref="Count"/> consecutive positions, starting at
/// <see cref="Start"/>, for every layer and KV head of one cache, in the cache's element type.
/// It is how KV moves between sequences (the server's prefix cache): copied out of a session
/// after its prefill (<see cref="KvCache.CopyBlock"/>) and appended to a new session whose cache
/// holds exactly the positions before it (<see cref="KvCache.AppendBlock"/>). Immutable and
/// independent of the cache it came from, so it may outlive it and be appended to many.
/// </summary>
/// <remarks>
/// Rows are stored per head, head-major: head <c>i = layer × HeadCountKv + kvHead</c> holds its keys
/// at <c>[i × Count × KeyDim, (i + 1) × Count × KeyDim)</c> of the key array, its values likewise.
/// </remarks>
public sealed class KvBlock
{
    internal KvBlock(KvCacheType type, int start, int count, int layers, int headsKv, int keyDim, int valueDim,
        Half[]? k16, Half[]? v16, float[]? k32, float[]? v32)
    {
        Type = type;
        Start = start;
        Count = count;
        LayerCount = layers;
        HeadCountKv = headsKv;
        KeyDim = keyDim;
        ValueDim = valueDim;
        K16 = k16;
        V16 = v16;
        K32 = k32;
        V32 = v32;
    }

    /// <summary>Element type of the rows (the cache's).</summary>
    public KvCacheType Type { get; }
    /// <summary>Position of the first entry.</summary>
    public int Start { get; }
    /// <summary>Entries per head.</summary>
    public int Count { get; }
    /// <summary>Layers.</summary>
    public int LayerCount { get; }
    /// <summary>KV heads per layer.</summary>
    public int HeadCountKv { get; }
    /// <summary>Key dimension.</summary>
    public int KeyDim { get; }
    /// <summary>Value dimension.</summary>
    public int ValueDim { get; }

    /// <summary>Bytes held by the rows.</summary>
    public long Bytes => (long)LayerCount * HeadCountKv * Count * (KeyDim + ValueDim) * (Type == KvCacheType.F16 ? 2 : 4);

    internal Half[]? K16 { get; }
    internal Half[]? V16 { get; }
    internal float[]? K32 { get; }
    internal float[]? V32 { get; }
}
