namespace LongCtx.Eval;

/// <summary>
/// xoshiro256** seeded through SplitMix64: a generator whose sequence is fixed by this file, so a
/// seed names the same sample on every machine and .NET version (System.Random promises neither).
/// </summary>
public sealed class EvalRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>Creates a generator from a 64-bit seed.</summary>
    public EvalRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>Next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform integer in [0, <paramref name="maxExclusive"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxExclusive"/> is not positive.</exception>
    public int Next(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxExclusive, 1);
        // Lemire's multiply-shift with rejection: unbiased.
        ulong bound = (ulong)maxExclusive;
        ulong threshold = (0UL - bound) % bound;
        while (true)
        {
            ulong r = NextUInt64();
            UInt128 m = (UInt128)r * bound;
            if ((ulong)m >= threshold)
            {
                return (int)(ulong)(m >> 64);
            }
        }
    }

    /// <summary>Uniform integer in [<paramref name="min"/>, <paramref name="maxInclusive"/>].</summary>
    public int NextInclusive(int min, int maxInclusive) => min + Next(maxInclusive - min + 1);

    /// <summary>Uniform double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>One element of <paramref name="items"/>.</summary>
    public T Choice<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary><paramref name="count"/> distinct integers from [0, <paramref name="range"/>), in random order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">More values asked than the range holds.</exception>
    public int[] Sample(int range, int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, range);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        // Partial Fisher–Yates over a sparse map, so large ranges cost O(count).
        var swapped = new Dictionary<int, int>();
        var result = new int[count];
        for (int i = 0; i < count; i++)
        {
            int j = i + Next(range - i);
            int vj = swapped.TryGetValue(j, out int a) ? a : j;
            int vi = swapped.TryGetValue(i, out int b) ? b : i;
            swapped[j] = vi;
            result[i] = vj;
        }
        return result;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}

/// <summary>Stable 64-bit hashes for deriving seeds (string.GetHashCode changes per process).</summary>
public static class StableHash
{
    /// <summary>FNV-1a over the UTF-16 code units of each part, with a separator between parts.</summary>
    public static ulong Of(params string[] parts)
    {
        ulong h = 14695981039346656037UL;
        foreach (string part in parts)
        {
            foreach (char c in part)
            {
                h = (h ^ c) * 1099511628211UL;
            }
            h = (h ^ 0x1F) * 1099511628211UL;
        }
        return h;
    }

    /// <summary>Combines a base seed with a hash, mixing the bits (SplitMix64 finalizer).</summary>
    public static ulong Mix(ulong a, ulong b)
    {
        ulong z = a ^ (b + 0x9E3779B97F4A7C15UL + (a << 6) + (a >> 2));
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
