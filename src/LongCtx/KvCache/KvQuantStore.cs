namespace LongCtx.KvCache;

/// <summary>
/// The quantized prefix of one head's entries, in <see cref="KvQuantization"/>'s layout: key
/// codes [entry][channel] with one F16 (min, scale) per channel per group of G tokens (KIVI's
/// per-channel keys), value codes [entry][channel] with one (min, scale) per group of G channels
/// of each token (per-token values). Entries arrive G at a time.
/// </summary>
internal sealed class KvQuantStore
{
    private byte[] _kCodes = [], _vCodes = [];
    private Half[] _kMin = [], _kScale = [], _vMin = [], _vScale = [];
    private readonly int _kRow, _vRow, _vGroups;
    private int _capacity;

    public KvQuantStore(KvQuantization format, int keyDim, int valueDim)
    {
        Format = format;
        KeyDim = keyDim;
        ValueDim = valueDim;
        _kRow = KvQuant.RowBytes(keyDim, format.Bits);
        _vRow = KvQuant.RowBytes(valueDim, format.Bits);
        _vGroups = (valueDim + format.Group - 1) / format.Group;
    }

    public KvQuantization Format { get; }
    public int KeyDim { get; }
    public int ValueDim { get; }
    /// <summary>Quantized entries (a multiple of the group size).</summary>
    public int Count { get; private set; }

    /// <summary>Bytes held by codes and scales.</summary>
    public long Bytes => _kCodes.Length + _vCodes.Length + 2L * (_kMin.Length + _kScale.Length + _vMin.Length + _vScale.Length);

    /// <summary>Quantizes one group of G entries: keys [G, keyDim], values [G, valueDim].</summary>
    public void AppendGroup(ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        int g = Format.Group, levels = Format.Levels, bits = Format.Bits, kd = KeyDim, vd = ValueDim;
        Reserve(Count + g);
        int group = Count / g;

        // Keys: one (min, scale) per channel over the group's tokens
        for (int c = 0; c < kd; c++)
        {
            float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
            for (int t = 0; t < g; t++)
            {
                float x = keys[t * kd + c];
                lo = MathF.Min(lo, x);
                hi = MathF.Max(hi, x);
            }
            KvQuant.Params(lo, hi, levels, out Half min, out Half scale);
            _kMin[group * kd + c] = min;
            _kScale[group * kd + c] = scale;
            for (int t = 0; t < g; t++)
            {
                KvQuant.Put(_kCodes.AsSpan((Count + t) * _kRow, _kRow), c, KvQuant.Code(keys[t * kd + c], (float)min, (float)scale, levels), bits);
            }
        }

        // Values: one (min, scale) per group of G channels of each token
        for (int t = 0; t < g; t++)
        {
            ReadOnlySpan<float> v = values.Slice(t * vd, vd);
            Span<byte> row = _vCodes.AsSpan((Count + t) * _vRow, _vRow);
            for (int vg = 0; vg < _vGroups; vg++)
            {
                int c0 = vg * g, c1 = Math.Min(vd, c0 + g);
                float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
                for (int c = c0; c < c1; c++)
                {
                    lo = MathF.Min(lo, v[c]);
                    hi = MathF.Max(hi, v[c]);
                }
                KvQuant.Params(lo, hi, levels, out Half min, out Half scale);
                _vMin[(Count + t) * _vGroups + vg] = min;
                _vScale[(Count + t) * _vGroups + vg] = scale;
                for (int c = c0; c < c1; c++)
                {
                    KvQuant.Put(row, c, KvQuant.Code(v[c], (float)min, (float)scale, levels), bits);
                }
            }
        }
        Count += g;
    }

    /// <summary>Decodes the key of entry <paramref name="j"/> into <paramref name="dst"/> (keyDim).</summary>
    public void DecodeKey(int j, Span<float> dst)
    {
        int kd = KeyDim, bits = Format.Bits, p = j / Format.Group * kd;
        ReadOnlySpan<byte> row = _kCodes.AsSpan(j * _kRow, _kRow);
        for (int c = 0; c < kd; c++)
        {
            dst[c] = (float)_kMin[p + c] + (float)_kScale[p + c] * KvQuant.Get(row, c, bits);
        }
    }

    /// <summary>Decodes the value of entry <paramref name="j"/> into <paramref name="dst"/> (valueDim).</summary>
    public void DecodeValue(int j, Span<float> dst)
    {
        int vd = ValueDim, g = Format.Group, bits = Format.Bits;
        ReadOnlySpan<byte> row = _vCodes.AsSpan(j * _vRow, _vRow);
        for (int c = 0; c < vd; c++)
        {
            int p = j * _vGroups + c / g;
            dst[c] = (float)_vMin[p] + (float)_vScale[p] * KvQuant.Get(row, c, bits);
        }
    }

    /// <summary>Packed key codes of entry <paramref name="j"/>.</summary>
    public ReadOnlySpan<byte> KeyCodes(int j) => _kCodes.AsSpan(j * _kRow, _kRow);

    /// <summary>Per-channel key minimums of token group <paramref name="group"/> (entries group·G …).</summary>
    public ReadOnlySpan<Half> KeyMin(int group) => _kMin.AsSpan(group * KeyDim, KeyDim);

    /// <summary>Per-channel key scales of token group <paramref name="group"/>.</summary>
    public ReadOnlySpan<Half> KeyScale(int group) => _kScale.AsSpan(group * KeyDim, KeyDim);

    /// <summary>Packed value codes of entry <paramref name="j"/>.</summary>
    public ReadOnlySpan<byte> ValueCodes(int j) => _vCodes.AsSpan(j * _vRow, _vRow);

    /// <summary>Minimums of entry <paramref name="j"/>'s value channel groups.</summary>
    public ReadOnlySpan<Half> ValueMin(int j) => _vMin.AsSpan(j * _vGroups, _vGroups);

    /// <summary>Scales of entry <paramref name="j"/>'s value channel groups.</summary>
    public ReadOnlySpan<Half> ValueScale(int j) => _vScale.AsSpan(j * _vGroups, _vGroups);

    /// <summary>Value channel groups per entry.</summary>
    public int ValueGroups => _vGroups;

    /// <summary>The largest error allowed for element <paramref name="c"/> of entry <paramref name="j"/>'s key: half its scale.</summary>
    public float KeyErrorBound(int j, int c) => (float)_kScale[j / Format.Group * KeyDim + c] / 2;

    /// <summary>The largest error allowed for element <paramref name="c"/> of entry <paramref name="j"/>'s value.</summary>
    public float ValueErrorBound(int j, int c) => (float)_vScale[j * _vGroups + c / Format.Group] / 2;

    private void Reserve(int entries)
    {
        if (entries <= _capacity)
        {
            return;
        }
        int g = Format.Group;
        int cap = Math.Max(entries, _capacity + Math.Max(g, _capacity / 16));
        cap = (cap + g - 1) / g * g;
        Array.Resize(ref _kCodes, cap * _kRow);
        Array.Resize(ref _vCodes, cap * _vRow);
        Array.Resize(ref _kMin, cap / g * KeyDim);
        Array.Resize(ref _kScale, cap / g * KeyDim);
        Array.Resize(ref _vMin, cap * _vGroups);
        Array.Resize(ref _vScale, cap * _vGroups);
        _capacity = cap;
    }

    /// <summary>Releases the spare room beyond <see cref="Count"/>.</summary>
    public void Trim()
    {
        int g = Format.Group;
        Array.Resize(ref _kCodes, Count * _kRow);
        Array.Resize(ref _vCodes, Count * _vRow);
        Array.Resize(ref _kMin, Count / g * KeyDim);
        Array.Resize(ref _kScale, Count / g * KeyDim);
        Array.Resize(ref _vMin, Count * _vGroups);
        Array.Resize(ref _vScale, Count * _vGroups);
        _capacity = Count;
    }
}
