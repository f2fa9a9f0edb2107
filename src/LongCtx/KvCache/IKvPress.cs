namespace LongCtx.KvCache;

/// <summary>
/// A KV-cache compression method applied after prefill (or every few decode steps): it scores the
/// cached entries per layer and head and removes, re-encodes or prunes them to a budget.
/// </summary>
public interface IKvPress
{
    /// <summary>What must be recorded while the tokens to compress are evaluated.</summary>
    KvObservationNeeds Needs { get; }

    /// <summary>Compresses <see cref="KvPressContext.Cache"/>.</summary>
    /// <exception cref="KvObservationException">The observations it needs were not recorded.</exception>
    void Compress(KvPressContext context);
}
