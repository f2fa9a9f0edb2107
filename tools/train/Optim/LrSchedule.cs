namespace LongCtx.Train.Optim;

/// <summary>
/// Linear warm-up to the peak rate, the peak held until <see cref="DecayStart"/>, then cosine decay to
/// the floor at the last step (warmup-stable-decay; with DecayStart ≤ Warmup a plain cosine after warm-up).
/// </summary>
/// <param name="Peak">Learning rate at the end of warm-up.</param>
/// <param name="Floor">Learning rate at the last step.</param>
/// <param name="Warmup">Warm-up steps.</param>
/// <param name="Total">Total steps.</param>
/// <param name="DecayStart">First step of the decay (0: right after warm-up).</param>
internal sealed record LrSchedule(float Peak, float Floor, int Warmup, int Total, int DecayStart = 0)
{
    /// <summary>The rate for step <paramref name="step"/> (0-based).</summary>
    public float At(long step)
    {
        if (step < Warmup) return Peak * (step + 1) / Warmup;
        if (step >= Total) return Floor;
        int start = Math.Max(Warmup, DecayStart);
        if (step < start) return Peak;
        double progress = (double)(step - start) / Math.Max(1, Total - start);
        return (float)(Floor + 0.5 * (Peak - Floor) * (1 + Math.Cos(Math.PI * progress)));
    }
}
