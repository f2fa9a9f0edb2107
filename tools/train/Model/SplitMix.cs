namespace LongCtx.Train.Model;

/// <summary>
/// SplitMix64: a tiny seeded generator whose sequence is fixed by its definition (not by a .NET
/// version), so a seed reproduces a run anywhere. State is one ulong, saved in checkpoints.
/// </summary>
internal struct SplitMix(ulong state)
{
    public ulong State = state;

    public ulong NextULong()
    {
        ulong z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int Next(int n) => (int)((NextULong() >> 33) * (ulong)n >> 31);

    /// <summary>Standard normal (Box–Muller).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A generator for sub-stream <paramref name="index"/> of <paramref name="seed"/> (e.g. the batch of one step).</summary>
    public static SplitMix For(ulong seed, ulong index)
    {
        var m = new SplitMix(seed ^ (index * 0xD1B54A32D192ED03UL));
        m.NextULong();
        return m;
    }
}
