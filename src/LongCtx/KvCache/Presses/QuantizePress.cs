namespace LongCtx.KvCache.Presses;

/// <summary>
/// KV quantization, KIVI-style (arXiv:2402.02750): keys per channel and values per token in
/// int8 or int4 groups with F16 scales; the most recent <see cref="KvQuantization.Window"/>
/// entries stay in full precision and later entries are quantized as they age. Attention reads
/// the quantized storage directly. Nothing is removed. Heads already in this format are left
/// as they are (their entries keep aging into it), so applying it again adds no error.
/// </summary>
public sealed class QuantizePress(KvQuantization format) : IKvPress
{
    /// <summary>The format.</summary>
    public KvQuantization Format { get; } = format;

    /// <inheritdoc/>
    public KvObservationNeeds Needs => default;

    /// <inheritdoc/>
    public void Compress(KvPressContext context)
    {
        KvCache cache = context.Cache;
        for (int layer = 0; layer < cache.LayerCount; layer++)
        {
            for (int h = 0; h < cache.HeadCountKv; h++)
            {
                if (cache.Quantization(layer, h) != Format)
                {
                    cache.Quantize(layer, h, Format);
                }
            }
        }
    }
}
