namespace LongCtx.Train.Optim;

/// <summary>Linear warm-up to the peak rate, then cosine decay to the floor at the last step.</summary>
/// <param name="Peak">Learning rate at the end of warm-up.</param>
/// <param name="Floor">Learning rate at the last step.</param>
/// <param name="Warmup">Warm-up steps.</param>
/// <param name="Total">Total steps.</param>
internal sealed record LrSchedule(float Peak, float Floor, int Warmup, int Total)
{
    /// <summary>The rate for step <paramref name="step"/> (0-based).</summary>
    public float At(long step)
    {
        if (step < Warmup) return Peak * (step + 1) / Warmup;
        if (step >= Total) return Floor;
        double progress = (double)(step - Warmup) / Math.Max(1, Total - Warmup);
        return (float)(Floor + 0.5 * (Peak - Floor) * (1 + Math.Cos(Math.PI * progress)));
    }
}
