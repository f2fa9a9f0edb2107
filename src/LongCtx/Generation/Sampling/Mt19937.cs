namespace LongCtx.Generation.Sampling;

/// <summary>
/// The 32-bit Mersenne Twister (Matsumoto and Nishimura 1998), bit for bit <c>std::mt19937</c>, and
/// <c>std::uniform_real_distribution&lt;double&gt;(0, 1)</c> on top of it as libstdc++ computes it
/// (<c>generate_canonical</c>: two draws, low word first). With the same seed, llama.cpp's dist
/// sampler draws the same numbers.
/// </summary>
internal sealed class Mt19937
{
    private const int N = 624;
    private const int M = 397;
    private readonly uint[] _state = new uint[N];
    private int _index;

    public Mt19937(uint seed) => Seed(seed);

    public void Seed(uint seed)
    {
        _state[0] = seed;
        for (int i = 1; i < N; i++)
        {
            _state[i] = 1812433253u * (_state[i - 1] ^ (_state[i - 1] >> 30)) + (uint)i;
        }
        _index = N;
    }

    public uint NextUInt32()
    {
        if (_index >= N)
        {
            Twist();
        }
        uint y = _state[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary>A double in [0, 1): (lo + hi·2³²) / 2⁶⁴, pulled below 1 if rounding reaches it.</summary>
    public double NextDouble()
    {
        double sum = NextUInt32();
        sum += NextUInt32() * 4294967296.0;
        double r = sum / 18446744073709551616.0;
        return r >= 1.0 ? Math.BitDecrement(1.0) : r;
    }

    private void Twist()
    {
        for (int i = 0; i < N; i++)
        {
            uint y = (_state[i] & 0x80000000u) | (_state[(i + 1) % N] & 0x7fffffffu);
            _state[i] = _state[(i + M) % N] ^ (y >> 1) ^ ((y & 1u) != 0 ? 0x9908b0dfu : 0u);
        }
        _index = 0;
    }
}
