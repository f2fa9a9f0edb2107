using LongCtx.Models;

namespace LongCtx.KvCache;

/// <summary>Element type of the cached keys and values.</summary>
public enum KvCacheType
{
    /// <summary>IEEE half precision (llama.cpp's default).</summary>
    F16,
    /// <summary>Single precision.</summary>
    F32,
}

/// <summary>
/// Keys and values of every layer for one sequence. Layout per layer: [kvHead][position][dim],
/// so that one head's keys are contiguous for attention.
/// </summary>
public sealed class KvCache
{
    private readonly Half[][]? _k16, _v16;
    private readonly float[][]? _k32, _v32;

    /// <summary>Allocates a cache for <paramref name="capacity"/> positions.</summary>
    public KvCache(ModelConfig config, int capacity, KvCacheType type)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        Type = type;
        HeadCountKv = config.HeadCountKv;
        KeyDim = config.HeadDim;
        ValueDim = config.ValueHeadDim;
        int layers = config.BlockCount;
        long kLen = (long)HeadCountKv * capacity * KeyDim, vLen = (long)HeadCountKv * capacity * ValueDim;
        if (type == KvCacheType.F16)
        {
            _k16 = new Half[layers][];
            _v16 = new Half[layers][];
            for (int l = 0; l < layers; l++)
            {
                _k16[l] = new Half[kLen];
                _v16[l] = new Half[vLen];
            }
        }
        else
        {
            _k32 = new float[layers][];
            _v32 = new float[layers][];
            for (int l = 0; l < layers; l++)
            {
                _k32[l] = new float[kLen];
                _v32[l] = new float[vLen];
            }
        }
        Bytes = layers * (kLen + vLen) * (type == KvCacheType.F16 ? 2 : 4);
    }

    /// <summary>Positions the cache can hold.</summary>
    public int Capacity { get; }
    /// <summary>Element type.</summary>
    public KvCacheType Type { get; }
    /// <summary>KV heads per layer.</summary>
    public int HeadCountKv { get; }
    /// <summary>Key head dimension.</summary>
    public int KeyDim { get; }
    /// <summary>Value head dimension.</summary>
    public int ValueDim { get; }
    /// <summary>Bytes allocated for keys and values.</summary>
    public long Bytes { get; }

    /// <summary>Stores the keys and values of one token at <paramref name="position"/> in <paramref name="layer"/>.</summary>
    /// <param name="layer">Layer index.</param>
    /// <param name="position">Position of the token.</param>
    /// <param name="k">n_kv_head × key dim.</param>
    /// <param name="v">n_kv_head × value dim.</param>
    public void Write(int layer, int position, ReadOnlySpan<float> k, ReadOnlySpan<float> v)
    {
        for (int h = 0; h < HeadCountKv; h++)
        {
            ReadOnlySpan<float> kh = k.Slice(h * KeyDim, KeyDim), vh = v.Slice(h * ValueDim, ValueDim);
            long kOff = ((long)h * Capacity + position) * KeyDim, vOff = ((long)h * Capacity + position) * ValueDim;
            if (_k16 != null)
            {
                System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(kh, _k16[layer].AsSpan((int)kOff, KeyDim));
                System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(vh, _v16![layer].AsSpan((int)vOff, ValueDim));
            }
            else
            {
                kh.CopyTo(_k32![layer].AsSpan((int)kOff, KeyDim));
                vh.CopyTo(_v32![layer].AsSpan((int)vOff, ValueDim));
            }
        }
    }

    /// <summary>Keys of head <paramref name="kvHead"/> for positions [0, count) (F16 cache).</summary>
    public ReadOnlySpan<Half> KeysF16(int layer, int kvHead, int count) =>
        _k16![layer].AsSpan(kvHead * Capacity * KeyDim, count * KeyDim);

    /// <summary>Values of head <paramref name="kvHead"/> for positions [0, count) (F16 cache).</summary>
    public ReadOnlySpan<Half> ValuesF16(int layer, int kvHead, int count) =>
        _v16![layer].AsSpan(kvHead * Capacity * ValueDim, count * ValueDim);

    /// <summary>Keys of head <paramref name="kvHead"/> for positions [0, count) (F32 cache).</summary>
    public ReadOnlySpan<float> KeysF32(int layer, int kvHead, int count) =>
        _k32![layer].AsSpan(kvHead * Capacity * KeyDim, count * KeyDim);

    /// <summary>Values of head <paramref name="kvHead"/> for positions [0, count) (F32 cache).</summary>
    public ReadOnlySpan<float> ValuesF32(int layer, int kvHead, int count) =>
        _v32![layer].AsSpan(kvHead * Capacity * ValueDim, count * ValueDim);
}
