namespace LongCtx.KvCache.Presses;

/// <summary>
/// PyramidKV: SnapKV's scores with layer-wise budgets, many entries in the lower layers and few in
/// the upper ones (an arithmetic pyramid whose mean is the overall budget; kvpress's schedule with
/// steepness <see cref="Beta"/>). arXiv:2406.02069.
/// </summary>
public sealed class PyramidKvPress : SnapKvPress
{
    private readonly int _beta = 20;

    /// <summary>Steepness: the top layer keeps about budget / beta entries (20).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
    public int Beta { get => _beta; init => _beta = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Beta), value, "beta must be at least 1"); }

    /// <inheritdoc/>
    protected internal override int KeepCount(KvPressContext context, int layer, int count)
    {
        int budget = base.KeepCount(context, layer, count), layers = context.Cache.LayerCount;
        double minNum = (double)budget / Beta, maxNum = 2.0 * budget - minNum;
        if (maxNum >= count - Window)
        {
            maxNum = count - Window;
            minNum = 2.0 * budget - maxNum;
        }
        if (layers < 2 || !(count >= maxNum && maxNum >= minNum && minNum >= Window))
        {
            return budget; // the pyramid does not fit: SnapKV's uniform budget
        }
        double step = (maxNum - minNum) / (layers - 1);
        return Math.Clamp((int)Math.Round(maxNum - layer * step), 1, count);
    }
}
