namespace LongCtx.KvCache;

/// <summary>
/// KIVI-style quantized KV (arXiv:2402.02750): keys quantized per channel over groups of
/// <see cref="Group"/> consecutive tokens, values per token over groups of <see cref="Group"/>
/// channels, both asymmetric (min + scale · code) with F16 min and scale; the most recent
/// <see cref="Window"/> entries stay in full precision.
/// </summary>
public sealed record KvQuantization
{
    /// <summary>Creates a format.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Bits not 4 or 8, group below 1, or a negative window.</exception>
    public KvQuantization(int bits, int group = 32, int window = 128)
    {
        if (bits is not (4 or 8))
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "KV quantization supports 4 or 8 bits");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(group, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(window);
        Bits = bits;
        Group = group;
        Window = window;
    }

    /// <summary>Bits per code: 8 (int8) or 4 (int4, two codes per byte).</summary>
    public int Bits { get; }
    /// <summary>Tokens per key scale group and channels per value scale group (KIVI's G; 32 by default).</summary>
    public int Group { get; }
    /// <summary>Most recent entries kept in full precision (KIVI's residual length R).</summary>
    public int Window { get; }
    /// <summary>Largest code: 2^bits − 1.</summary>
    public int Levels => (1 << Bits) - 1;
}
