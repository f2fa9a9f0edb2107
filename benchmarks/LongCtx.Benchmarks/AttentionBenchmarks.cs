using BenchmarkDotNet.Attributes;
using LongCtx.Attention;

namespace LongCtx.Benchmarks;

/// <summary>
/// One decode step of grouped attention over one KV head (Qwen2.5-0.5B: 7 query heads per KV head,
/// head dim 64) at long context: the F16 keys and values read once for the group.
/// </summary>
public class AttentionBenchmarks : IBytesRead
{
    private const int Dim = 64, Group = 7;
    private Half[] _k = [], _v = [];
    private float[] _q = [], _out = [];

    [Params(4096, 16384)] public int Context { get; set; }

    public long BytesRead => 2L * Context * Dim * 2;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(2);
        _k = new Half[Context * Dim];
        _v = new Half[Context * Dim];
        for (int i = 0; i < _k.Length; i++)
        {
            _k[i] = (Half)(rng.NextDouble() * 2 - 1);
            _v[i] = (Half)(rng.NextDouble() * 2 - 1);
        }
        _q = new float[Group * Dim];
        for (int i = 0; i < _q.Length; i++) _q[i] = (float)(rng.NextDouble() * 2 - 1);
        _out = new float[Group * Dim];
    }

    [Benchmark]
    public void DecodeGroup()
    {
        if (TiledAttention.Available)
        {
            TiledAttention.Decode(_q, Group, _k, _v, Dim, Dim, Context, 0.125f, _out);
        }
    }
}
