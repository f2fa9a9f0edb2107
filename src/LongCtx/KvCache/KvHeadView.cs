using System.Numerics.Tensors;

namespace LongCtx.KvCache;

/// <summary>
/// What attention reads of one (layer, KV head): <see cref="Count"/> entries in position order,
/// the oldest <see cref="QuantizedCount"/> of them quantized, the rest as full-precision rows
/// (<see cref="KeysF16"/>/<see cref="ValuesF16"/> or the F32 pair, row-major, entry
/// <c>QuantizedCount + i</c> at row i). When <see cref="KeyChannels"/> is not empty, keys hold only
/// those channels of the query (ThinK). A plain head (<see cref="IsPlain"/>) is just two spans.
/// Valid until the cache changes.
/// </summary>
public readonly ref struct KvHeadView
{
    private readonly KvQuantStore? _quant;
    private readonly int[]? _channels;

    internal KvHeadView(KvCacheType type, int count, int keyDim, int valueDim, int[]? channels, ReadOnlySpan<int> positions, KvQuantStore? quant,
        ReadOnlySpan<Half> k16, ReadOnlySpan<Half> v16, ReadOnlySpan<float> k32, ReadOnlySpan<float> v32)
    {
        Type = type;
        Count = count;
        KeyDim = keyDim;
        ValueDim = valueDim;
        _channels = channels;
        Positions = positions;
        _quant = quant;
        KeysF16 = k16;
        ValuesF16 = v16;
        KeysF32 = k32;
        ValuesF32 = v32;
    }

    /// <summary>Element type of the full-precision rows.</summary>
    public KvCacheType Type { get; }
    /// <summary>Entries held.</summary>
    public int Count { get; }
    /// <summary>Stored key dimension.</summary>
    public int KeyDim { get; }
    /// <summary>Value dimension.</summary>
    public int ValueDim { get; }
    /// <summary>The query channels the keys hold, ascending; empty when keys hold every channel.</summary>
    public ReadOnlySpan<int> KeyChannels => _channels;
    /// <summary>Original positions of the entries, ascending.</summary>
    public ReadOnlySpan<int> Positions { get; }
    /// <summary>Entries [0, QuantizedCount) are quantized.</summary>
    public int QuantizedCount => _quant?.Count ?? 0;
    /// <summary>Whether every entry is a full-precision row with every key channel.</summary>
    public bool IsPlain => _quant is null && _channels is null;
    /// <summary>Full-precision keys [Count − QuantizedCount, KeyDim] (F16 cache).</summary>
    public ReadOnlySpan<Half> KeysF16 { get; }
    /// <summary>Full-precision values [Count − QuantizedCount, ValueDim] (F16 cache).</summary>
    public ReadOnlySpan<Half> ValuesF16 { get; }
    /// <summary>Full-precision keys (F32 cache).</summary>
    public ReadOnlySpan<float> KeysF32 { get; }
    /// <summary>Full-precision values (F32 cache).</summary>
    public ReadOnlySpan<float> ValuesF32 { get; }

    internal KvQuantStore? Quantized => _quant;

    /// <summary>Decodes the key of entry <paramref name="j"/> (any segment) into <paramref name="dst"/> (<see cref="KeyDim"/> floats).</summary>
    public void ReadKey(int j, Span<float> dst)
    {
        int q = QuantizedCount, kd = KeyDim;
        if (j < q)
        {
            _quant!.DecodeKey(j, dst);
        }
        else if (Type == KvCacheType.F16)
        {
            TensorPrimitives.ConvertToSingle(KeysF16.Slice((j - q) * kd, kd), dst[..kd]);
        }
        else
        {
            KeysF32.Slice((j - q) * kd, kd).CopyTo(dst);
        }
    }

    /// <summary>Decodes the value of entry <paramref name="j"/> into <paramref name="dst"/> (<see cref="ValueDim"/> floats).</summary>
    public void ReadValue(int j, Span<float> dst)
    {
        int q = QuantizedCount, vd = ValueDim;
        if (j < q)
        {
            _quant!.DecodeValue(j, dst);
        }
        else if (Type == KvCacheType.F16)
        {
            TensorPrimitives.ConvertToSingle(ValuesF16.Slice((j - q) * vd, vd), dst[..vd]);
        }
        else
        {
            ValuesF32.Slice((j - q) * vd, vd).CopyTo(dst);
        }
    }

    /// <summary>
    /// Brings a full query head into the key's channel space: copies the kept channels (all of
    /// them when <see cref="KeyChannels"/> is empty) into <paramref name="dst"/> and returns it.
    /// </summary>
    public Span<float> ProjectQuery(ReadOnlySpan<float> q, Span<float> dst)
    {
        Span<float> r = dst[..KeyDim];
        if (_channels is null)
        {
            q[..KeyDim].CopyTo(r);
            return r;
        }
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = q[_channels[i]];
        }
        return r;
    }
}
