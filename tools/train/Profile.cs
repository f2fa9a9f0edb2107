using System.Diagnostics;

namespace LongCtx.Train;

/// <summary>Wall time per kind of work, for the speed report (off unless a benchmark turns it on).</summary>
internal static class Profile
{
    public const int Gemm = 0, Attention = 1, Norm = 2, Elementwise = 3, Head = 4, Optimizer = 5, Count = 6;
    private static readonly string[] Names = ["gemm", "attention", "norm", "elementwise", "loss", "optimizer"];
    private static readonly long[] Ticks = new long[Count];

    public static bool Enabled { get; set; }

    public static long Start() => Enabled ? Stopwatch.GetTimestamp() : 0;

    public static void Stop(int kind, long start)
    {
        if (Enabled) Interlocked.Add(ref Ticks[kind], Stopwatch.GetTimestamp() - start);
    }

    public static void Reset() => Array.Clear(Ticks);

    /// <summary>Shares of <paramref name="threadSeconds"/> (wall time × threads running passes).</summary>
    public static string Report(double threadSeconds)
    {
        double wallSeconds = threadSeconds;
        var parts = new List<string>();
        for (int i = 0; i < Count; i++)
        {
            double s = (double)Ticks[i] / Stopwatch.Frequency;
            parts.Add($"{Names[i]} {100 * s / wallSeconds:F0}%");
        }
        return string.Join(", ", parts);
    }
}
