using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using LongCtx.Tensors;

namespace LongCtx.Benchmarks;

/// <summary>
/// The matrix-product kernels on a 16384 × 2048 weight matrix (larger than the caches), one token
/// (decode: memory-bound, compare GB/s with <see cref="MemoryBandwidth"/>) and 64 tokens (prefill).
/// "Interleaved" is the order of ggml's repacked kernels (Q4_0, Q4_K weights llama.cpp repacks).
/// </summary>
public unsafe class MatMulBenchmarks : IBytesRead, IDisposable
{
    private const int Rows = 16384, Cols = 2048;
    private byte* _w;
    private float[] _x = [], _y = [];
    private WorkerPool? _pool;
    private readonly MatMulScratch _scratch = new();

    [Params("q8_0", "q4_0", "q4_0/interleaved", "q5_0", "q4_K", "q4_K/interleaved", "q6_K", "f16")]
    public string Type { get; set; } = "q8_0";

    [Params(1, 64)] public int Tokens { get; set; }

    [Params(1, 2)] public int Threads { get; set; }

    private GgmlType WeightType => GgmlTypeInfo.Parse(Type.Split('/')[0]);
    private bool Interleaved => Type.EndsWith("/interleaved", StringComparison.Ordinal);

    public long BytesRead => GgmlTypeInfo.RowSize(WeightType, Cols) * Rows;

    [GlobalSetup]
    public void Setup()
    {
        long rowBytes = GgmlTypeInfo.RowSize(WeightType, Cols);
        _w = (byte*)NativeMemory.AlignedAlloc((nuint)(rowBytes * Rows), 64);
        var rng = new Random(1);
        var row = new float[Cols];
        var q = new byte[rowBytes];
        for (int r = 0; r < Rows; r++)
        {
            if (r % 64 == 0)
            {
                for (int i = 0; i < Cols; i++) row[i] = (float)(rng.NextDouble() - 0.5);
                Quantize.Row(WeightType, row, q);
            }
            q.CopyTo(new Span<byte>(_w + r * rowBytes, (int)rowBytes));
        }
        _x = new float[Tokens * Cols];
        for (int i = 0; i < _x.Length; i++) _x[i] = (float)(rng.NextDouble() - 0.5);
        _y = new float[Tokens * Rows];
        _pool = new WorkerPool(Threads);
    }

    [Benchmark]
    public void MatMul() => LongCtx.Tensors.MatMul.Compute(WeightType, _w, Rows, Cols, _x, Tokens, _y, _pool!, _scratch, Kernels.Level, Interleaved);

    [GlobalCleanup]
    public void Dispose()
    {
        _pool?.Dispose();
        if (_w != null) NativeMemory.AlignedFree(_w);
        _w = null;
        GC.SuppressFinalize(this);
    }
}
