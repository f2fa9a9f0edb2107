namespace LongCtx.KvCache;

/// <summary>
/// Chooses, at every decode step, which entries of each KV head attention reads; nothing is
/// deleted (Quest, TokenSelect). Called once per layer and KV head, concurrently for the heads
/// of a layer, so implementations keep state per (layer, head). Prefill batches read everything.
/// </summary>
public interface IKvSelector
{
    /// <summary>Chooses the entries of one KV head that the query heads of its group read.</summary>
    /// <param name="cache">The cache (this step's token is already in it, as the last entry).</param>
    /// <param name="layer">Layer index.</param>
    /// <param name="kvHead">KV head index.</param>
    /// <param name="queries">The group's post-RoPE query heads [group × head dim].</param>
    /// <param name="selected">Room for <c>cache.Count(layer, kvHead)</c> indices; write the chosen ones strictly ascending.</param>
    /// <returns>The number of indices written, or −1 to read every entry.</returns>
    int Select(KvCache cache, int layer, int kvHead, ReadOnlySpan<float> queries, Span<int> selected);
}
