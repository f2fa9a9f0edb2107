namespace LongCtx.KvCache;

/// <summary>Element type of the full-precision cached keys and values.</summary>
public enum KvCacheType
{
    /// <summary>IEEE half precision (llama.cpp's default).</summary>
    F16,
    /// <summary>Single precision.</summary>
    F32,
}
