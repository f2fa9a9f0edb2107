namespace LongCtx.KvCache.Presses;

/// <summary>Several presses applied in order (e.g. SnapKV, then int8 on what it kept: <c>snapkv:ratio=0.5+int8</c>).</summary>
public sealed class ComposedPress : IKvPress
{
    /// <summary>Composes <paramref name="presses"/>, applied first to last.</summary>
    /// <exception cref="ArgumentException">No press.</exception>
    public ComposedPress(IReadOnlyList<IKvPress> presses)
    {
        if (presses.Count == 0)
        {
            throw new ArgumentException("a composed press needs at least one press", nameof(presses));
        }
        Presses = presses;
    }

    /// <summary>The presses, in order.</summary>
    public IReadOnlyList<IKvPress> Presses { get; }

    /// <inheritdoc/>
    public KvObservationNeeds Needs
    {
        get
        {
            KvObservationNeeds needs = default;
            foreach (IKvPress p in Presses)
            {
                needs = needs.Union(p.Needs);
            }
            return needs;
        }
    }

    /// <inheritdoc/>
    public void Compress(KvPressContext context)
    {
        foreach (IKvPress p in Presses)
        {
            p.Compress(context);
        }
    }
}
