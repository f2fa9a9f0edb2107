using System.Numerics.Tensors;

namespace LongCtx.KvCache;

/// <summary>
/// The entries of one (layer, KV head): positions, full-precision keys and values, and optionally
/// a quantized prefix (<see cref="KvQuantStore"/>), a kept-channel map for keys (ThinK) and an
/// accumulated-attention lane (H2O). Entries stay in position order. Storage holds what is kept:
/// it grows by 1/16 (at least 64 entries) up to the context size, and is reallocated to the kept
/// size whenever entries are removed, so that freed memory really returns.
/// </summary>
internal sealed class KvHeadStore(KvCacheType type, int keyDim, int valueDim, int maxEntries)
{
    private const int MinGrowth = 64;
    private readonly KvCacheType _type = type;
    private readonly int _fullKeyDim = keyDim, _valueDim = valueDim, _maxEntries = maxEntries;
    private int _keyDim = keyDim;
    private int[]? _channels;
    private int[] _positions = [];
    private float[]? _attention;
    private Half[] _k16 = [], _v16 = [];
    private float[] _k32 = [], _v32 = [];
    private int _fpCapacity;
    private KvQuantStore? _quant;
    private float[]? _keyScratch, _groupKeys, _groupValues;

    /// <summary>Entries held.</summary>
    public int Count { get; private set; }
    /// <summary>Changes whenever entries are removed or re-encoded (not on append), so that selectors can drop derived state.</summary>
    public int Version { get; private set; }
    /// <summary>Stored key dimension (fewer than the model's after key-channel pruning).</summary>
    public int KeyDim => _keyDim;
    /// <summary>Entries in the quantized prefix.</summary>
    public int QuantizedCount => _quant?.Count ?? 0;
    /// <summary>The quantization format, or null.</summary>
    public KvQuantization? Quantization => _quant?.Format;
    /// <summary>Original positions of the entries, ascending.</summary>
    public ReadOnlySpan<int> Positions => _positions.AsSpan(0, Count);
    /// <summary>Accumulated attention of each entry; empty unless tracked.</summary>
    public Span<float> Attention => _attention is null ? default : _attention.AsSpan(0, Count);

    /// <summary>Bytes held by every lane.</summary>
    public long Bytes =>
        4L * (_positions.Length + (_attention?.Length ?? 0) + (_channels?.Length ?? 0))
        + (_type == KvCacheType.F16 ? 2L * (_k16.Length + _v16.Length) : 4L * (_k32.Length + _v32.Length))
        + (_quant?.Bytes ?? 0);

    /// <summary>What attention reads.</summary>
    public KvHeadView View()
    {
        int fp = Count - QuantizedCount;
        return _type == KvCacheType.F16
            ? new KvHeadView(_type, Count, _keyDim, _valueDim, _channels, Positions, _quant, _k16.AsSpan(0, fp * _keyDim), _v16.AsSpan(0, fp * _valueDim), default, default)
            : new KvHeadView(_type, Count, _keyDim, _valueDim, _channels, Positions, _quant, default, default, _k32.AsSpan(0, fp * _keyDim), _v32.AsSpan(0, fp * _valueDim));
    }

    /// <summary>Appends one entry; <paramref name="key"/> has the model's full key dimension.</summary>
    /// <exception cref="InvalidOperationException">The position is not after the last one held.</exception>
    public void Append(int position, ReadOnlySpan<float> key, ReadOnlySpan<float> value)
    {
        if (Count > 0 && position <= _positions[Count - 1])
        {
            throw new InvalidOperationException(
                $"KV cache: position {position} written after position {_positions[Count - 1]}; entries must arrive in position order (truncate or clear the cache first)");
        }
        if (Count == _positions.Length)
        {
            int cap = NextCapacity(_positions.Length, Count + 1, _maxEntries);
            Resize(ref _positions, cap, Count);
            if (_attention != null)
            {
                Resize(ref _attention, cap, Count);
            }
        }
        int fp = Count - QuantizedCount;
        if (fp == _fpCapacity)
        {
            GrowFullPrecision(fp + 1);
        }
        if (_channels != null)
        {
            // ThinK: store only the kept key channels
            Span<float> kept = (_keyScratch ??= new float[_keyDim]).AsSpan(0, _keyDim);
            for (int i = 0; i < kept.Length; i++)
            {
                kept[i] = key[_channels[i]];
            }
            key = kept;
        }
        WriteFullPrecision(fp, key, value);
        _positions[Count] = position;
        if (_attention != null)
        {
            _attention[Count] = 0;
        }
        Count++;
        if (_quant != null && Count - _quant.Count >= _quant.Format.Window + _quant.Format.Group)
        {
            QuantizeOldest();
        }
    }

    /// <summary>
    /// Makes room for <paramref name="more"/> entries after those held (at most the context size), so a
    /// prefill of that many tokens writes without growing: growth copies every entry held, and the copies
    /// left behind raise peak memory well above the cache itself. A quantized store grows by itself.
    /// </summary>
    public void Reserve(int more)
    {
        int wanted = Math.Min(_maxEntries, Count + Math.Max(0, more));
        if (_quant != null || wanted <= _positions.Length)
        {
            return;
        }
        Resize(ref _positions, wanted, Count);
        if (_attention != null)
        {
            Resize(ref _attention, wanted, Count);
        }
        if (wanted > _fpCapacity)
        {
            int fp = Count;
            if (_type == KvCacheType.F16)
            {
                Resize(ref _k16, wanted * _keyDim, fp * _keyDim);
                Resize(ref _v16, wanted * _valueDim, fp * _valueDim);
            }
            else
            {
                Resize(ref _k32, wanted * _keyDim, fp * _keyDim);
                Resize(ref _v32, wanted * _valueDim, fp * _valueDim);
            }
            _fpCapacity = wanted;
        }
    }

    /// <summary>Whether entries [<paramref name="start"/>, start + count) are full-precision rows with every key channel, entry i at position i.</summary>
    public bool IsDense(int start, int count) =>
        _quant is null && _channels is null && start >= 0 && count >= 0 && start + count <= Count
        && (count == 0 || (_positions[start] == start && _positions[start + count - 1] == start + count - 1));

    /// <summary>Copies the rows of entries [<paramref name="start"/>, start + count) (see <see cref="IsDense"/>) into the destination pair of the cache's type.</summary>
    public void CopyRows(int start, int count, Span<Half> k16, Span<Half> v16, Span<float> k32, Span<float> v32)
    {
        int kd = _keyDim, vd = _valueDim;
        if (_type == KvCacheType.F16)
        {
            _k16.AsSpan(start * kd, count * kd).CopyTo(k16);
            _v16.AsSpan(start * vd, count * vd).CopyTo(v16);
        }
        else
        {
            _k32.AsSpan(start * kd, count * kd).CopyTo(k32);
            _v32.AsSpan(start * vd, count * vd).CopyTo(v32);
        }
    }

    /// <summary>
    /// Appends <paramref name="count"/> full-precision rows at positions <see cref="Count"/>, Count + 1, …
    /// (rows of the cache's type; the other pair is empty). The store must be dense (<see cref="IsDense"/> over all it holds).
    /// </summary>
    public void AppendRows(int count, ReadOnlySpan<Half> k16, ReadOnlySpan<Half> v16, ReadOnlySpan<float> k32, ReadOnlySpan<float> v32)
    {
        int at = Count;
        if (count + at > _positions.Length)
        {
            int cap = NextCapacity(_positions.Length, at + count, _maxEntries);
            Resize(ref _positions, cap, at);
            if (_attention != null)
            {
                Resize(ref _attention, cap, at);
            }
        }
        if (at + count > _fpCapacity)
        {
            GrowFullPrecision(at + count);
        }
        int kd = _keyDim, vd = _valueDim;
        if (_type == KvCacheType.F16)
        {
            k16.CopyTo(_k16.AsSpan(at * kd, count * kd));
            v16.CopyTo(_v16.AsSpan(at * vd, count * vd));
        }
        else
        {
            k32.CopyTo(_k32.AsSpan(at * kd, count * kd));
            v32.CopyTo(_v32.AsSpan(at * vd, count * vd));
        }
        for (int i = 0; i < count; i++)
        {
            _positions[at + i] = at + i;
            if (_attention != null)
            {
                _attention[at + i] = 0;
            }
        }
        Count = at + count;
    }

    /// <summary>Keeps only the entries at <paramref name="indices"/> (strictly ascending) and releases the rest.</summary>
    /// <exception cref="ArgumentException">The indices are not strictly ascending or not below <see cref="Count"/>.</exception>
    public void Keep(ReadOnlySpan<int> indices)
    {
        for (int i = 0; i < indices.Length; i++)
        {
            if ((uint)indices[i] >= (uint)Count || (i > 0 && indices[i] <= indices[i - 1]))
            {
                throw new ArgumentException(
                    $"KV cache: kept index {indices[i]} at {i} is out of order or outside [0, {Count}); indices must be strictly ascending", nameof(indices));
            }
        }
        if (_quant != null)
        {
            Materialize(out float[] keys, out float[] values);
            int kd = _keyDim, vd = _valueDim, m = indices.Length;
            var k = new float[m * kd];
            var v = new float[m * vd];
            var pos = new int[m];
            float[]? att = _attention != null ? new float[m] : null;
            for (int i = 0; i < m; i++)
            {
                int j = indices[i];
                keys.AsSpan(j * kd, kd).CopyTo(k.AsSpan(i * kd, kd));
                values.AsSpan(j * vd, vd).CopyTo(v.AsSpan(i * vd, vd));
                pos[i] = _positions[j];
                if (att != null)
                {
                    att[i] = _attention![j];
                }
            }
            Rebuild(k, v, pos, att, m, _quant.Format);
            return;
        }

        // Full precision only: compact in place (index i ≤ indices[i]), then shrink to the kept size
        int kdim = _keyDim, vdim = _valueDim;
        for (int i = 0; i < indices.Length; i++)
        {
            int j = indices[i];
            if (j == i)
            {
                continue;
            }
            _positions[i] = _positions[j];
            if (_attention != null)
            {
                _attention[i] = _attention[j];
            }
            if (_type == KvCacheType.F16)
            {
                Array.Copy(_k16, j * kdim, _k16, i * kdim, kdim);
                Array.Copy(_v16, j * vdim, _v16, i * vdim, vdim);
            }
            else
            {
                Array.Copy(_k32, j * kdim, _k32, i * kdim, kdim);
                Array.Copy(_v32, j * vdim, _v32, i * vdim, vdim);
            }
        }
        Count = indices.Length;
        Trim();
        Version++;
    }

    /// <summary>Removes the entries at positions ≥ <paramref name="position"/>.</summary>
    public void RemoveFrom(int position)
    {
        int cut = Positions.BinarySearch(position);
        cut = cut >= 0 ? cut : ~cut;
        if (cut == Count)
        {
            return;
        }
        if (cut >= QuantizedCount)
        {
            Count = cut;
            Version++;
            return;
        }
        var all = new int[cut];
        for (int i = 0; i < cut; i++)
        {
            all[i] = i;
        }
        Keep(all);
    }

    /// <summary>Keeps only the key channels <paramref name="channels"/> (strictly ascending indices into the stored channels).</summary>
    /// <exception cref="ArgumentException">Empty, not strictly ascending, or out of range.</exception>
    public void PruneKeyChannels(ReadOnlySpan<int> channels)
    {
        if (channels.IsEmpty)
        {
            throw new ArgumentException("KV cache: at least one key channel must be kept", nameof(channels));
        }
        for (int i = 0; i < channels.Length; i++)
        {
            if ((uint)channels[i] >= (uint)_keyDim || (i > 0 && channels[i] <= channels[i - 1]))
            {
                throw new ArgumentException(
                    $"KV cache: key channel {channels[i]} at {i} is out of order or outside [0, {_keyDim})", nameof(channels));
            }
        }
        if (channels.Length == _keyDim)
        {
            return;
        }
        Materialize(out float[] keys, out float[] values);
        int kd = _keyDim, nk = channels.Length;
        var pruned = new float[Count * nk];
        var map = new int[nk];
        for (int c = 0; c < nk; c++)
        {
            map[c] = _channels != null ? _channels[channels[c]] : channels[c];
            for (int j = 0; j < Count; j++)
            {
                pruned[j * nk + c] = keys[j * kd + channels[c]];
            }
        }
        _channels = map;
        _keyDim = nk;
        _keyScratch = null;
        Rebuild(pruned, values, _positions.AsSpan(0, Count).ToArray(), _attention?.AsSpan(0, Count).ToArray(), Count, _quant?.Format);
    }

    /// <summary>Re-encodes the entries older than the format's window in <paramref name="format"/>.</summary>
    public void Quantize(KvQuantization format)
    {
        Materialize(out float[] keys, out float[] values);
        Rebuild(keys, values, _positions.AsSpan(0, Count).ToArray(), _attention?.AsSpan(0, Count).ToArray(), Count, format);
    }

    /// <summary>Starts or stops the accumulated-attention lane (zeros for the entries already held).</summary>
    public void TrackAttention(bool on) => _attention = on ? new float[_positions.Length] : null;

    /// <summary>Drops every entry and every encoding, and releases the storage.</summary>
    public void Clear()
    {
        Count = 0;
        _positions = [];
        _k16 = _v16 = [];
        _k32 = _v32 = [];
        _fpCapacity = 0;
        _quant = null;
        _channels = null;
        _keyDim = _fullKeyDim;
        _keyScratch = null;
        if (_attention != null)
        {
            _attention = [];
        }
        Version++;
    }

    /// <summary>Every entry as floats: keys [Count, KeyDim], values [Count, valueDim].</summary>
    public void Materialize(out float[] keys, out float[] values)
    {
        keys = new float[Count * _keyDim];
        values = new float[Count * _valueDim];
        KvHeadView view = View();
        for (int j = 0; j < Count; j++)
        {
            view.ReadKey(j, keys.AsSpan(j * _keyDim, _keyDim));
            view.ReadValue(j, values.AsSpan(j * _valueDim, _valueDim));
        }
    }

    /// <summary>Replaces every lane with <paramref name="count"/> entries, the oldest quantized in <paramref name="format"/>.</summary>
    private void Rebuild(float[] keys, float[] values, int[] positions, float[]? attention, int count, KvQuantization? format)
    {
        int kd = _keyDim, vd = _valueDim;
        int quantized = 0;
        _quant = null;
        if (format != null)
        {
            _quant = new KvQuantStore(format, kd, vd);
            int g = format.Group;
            quantized = Math.Max(0, count - format.Window) / g * g;
            for (int j = 0; j < quantized; j += g)
            {
                _quant.AppendGroup(keys.AsSpan(j * kd, g * kd), values.AsSpan(j * vd, g * vd));
            }
            _quant.Trim();
        }
        int fp = count - quantized;
        _fpCapacity = fp;
        if (_type == KvCacheType.F16)
        {
            _k16 = new Half[fp * kd];
            _v16 = new Half[fp * vd];
            TensorPrimitives.ConvertToHalf(keys.AsSpan(quantized * kd, fp * kd), _k16);
            TensorPrimitives.ConvertToHalf(values.AsSpan(quantized * vd, fp * vd), _v16);
        }
        else
        {
            _k32 = keys.AsSpan(quantized * kd, fp * kd).ToArray();
            _v32 = values.AsSpan(quantized * vd, fp * vd).ToArray();
        }
        _positions = positions.AsSpan(0, count).ToArray();
        if (_attention != null)
        {
            _attention = attention?.AsSpan(0, count).ToArray() ?? new float[count];
        }
        Count = count;
        Version++;
    }

    /// <summary>Moves the G oldest full-precision entries into the quantized prefix (KIVI's residual flush).</summary>
    private void QuantizeOldest()
    {
        KvQuantStore q = _quant!;
        int g = q.Format.Group, kd = _keyDim, vd = _valueDim, fp = Count - q.Count;
        Span<float> keys = (_groupKeys ??= new float[g * kd]).AsSpan(0, g * kd);
        Span<float> values = (_groupValues ??= new float[g * vd]).AsSpan(0, g * vd);
        if (_type == KvCacheType.F16)
        {
            TensorPrimitives.ConvertToSingle(_k16.AsSpan(0, g * kd), keys);
            TensorPrimitives.ConvertToSingle(_v16.AsSpan(0, g * vd), values);
            Array.Copy(_k16, g * kd, _k16, 0, (fp - g) * kd);
            Array.Copy(_v16, g * vd, _v16, 0, (fp - g) * vd);
        }
        else
        {
            _k32.AsSpan(0, g * kd).CopyTo(keys);
            _v32.AsSpan(0, g * vd).CopyTo(values);
            Array.Copy(_k32, g * kd, _k32, 0, (fp - g) * kd);
            Array.Copy(_v32, g * vd, _v32, 0, (fp - g) * vd);
        }
        q.AppendGroup(keys, values);
    }

    private void WriteFullPrecision(int fp, ReadOnlySpan<float> key, ReadOnlySpan<float> value)
    {
        int kd = _keyDim, vd = _valueDim;
        if (_type == KvCacheType.F16)
        {
            TensorPrimitives.ConvertToHalf(key[..kd], _k16.AsSpan(fp * kd, kd));
            TensorPrimitives.ConvertToHalf(value[..vd], _v16.AsSpan(fp * vd, vd));
        }
        else
        {
            key[..kd].CopyTo(_k32.AsSpan(fp * kd, kd));
            value[..vd].CopyTo(_v32.AsSpan(fp * vd, vd));
        }
    }

    private void GrowFullPrecision(int needed)
    {
        int max = _quant != null ? _quant.Format.Window + _quant.Format.Group : _maxEntries;
        int cap = NextCapacity(_fpCapacity, needed, max);
        int fp = Count - QuantizedCount;
        if (_type == KvCacheType.F16)
        {
            Resize(ref _k16, cap * _keyDim, fp * _keyDim);
            Resize(ref _v16, cap * _valueDim, fp * _valueDim);
        }
        else
        {
            Resize(ref _k32, cap * _keyDim, fp * _keyDim);
            Resize(ref _v32, cap * _valueDim, fp * _valueDim);
        }
        _fpCapacity = cap;
    }

    /// <summary>Reallocates every lane to exactly what is held.</summary>
    private void Trim()
    {
        int fp = Count - QuantizedCount;
        Resize(ref _positions, Count, Count);
        if (_attention != null)
        {
            Resize(ref _attention, Count, Count);
        }
        if (_type == KvCacheType.F16)
        {
            Resize(ref _k16, fp * _keyDim, fp * _keyDim);
            Resize(ref _v16, fp * _valueDim, fp * _valueDim);
        }
        else
        {
            Resize(ref _k32, fp * _keyDim, fp * _keyDim);
            Resize(ref _v32, fp * _valueDim, fp * _valueDim);
        }
        _fpCapacity = fp;
        _quant?.Trim();
    }

    private static int NextCapacity(int current, int needed, int max) =>
        Math.Max(needed, Math.Min(max, current + Math.Max(MinGrowth, current / 16)));

    private static void Resize<T>(ref T[] array, int length, int keep)
    {
        if (array.Length == length)
        {
            return;
        }
        T[] grown = GC.AllocateUninitializedArray<T>(length);
        Array.Copy(array, grown, Math.Min(keep, length));
        array = grown;
    }
}
