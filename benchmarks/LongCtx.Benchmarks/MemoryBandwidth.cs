using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using LongCtx.Tensors;

namespace LongCtx.Benchmarks;

/// <summary>
/// The machine's plain read bandwidth: 256 MiB summed with 512-bit loads, four sequential streams
/// per thread (the access pattern of the decode kernels), split over the pool's threads.
/// </summary>
public unsafe class MemoryBandwidth : IBytesRead, IDisposable
{
    private const long Bytes = 256L << 20;
    private byte* _data;
    private WorkerPool? _pool;

    [Params(1, 2)] public int Threads { get; set; }

    public long BytesRead => Bytes;

    [GlobalSetup]
    public void Setup()
    {
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)Bytes, 64);
        new Span<byte>(_data, (int)Bytes).Fill(1);
        _pool = new WorkerPool(Threads);
    }

    [Benchmark]
    public void Read() => _pool!.For(64, new Sum { Data = _data, Chunk = Bytes / 64 });

    private struct Sum : IParallelWork
    {
        public byte* Data;
        public long Chunk;

        public readonly void Execute(int start, int end)
        {
            Vector512<byte> acc = default;
            for (int c = start; c < end; c++)
            {
                byte* p = Data + c * Chunk;
                long q = Chunk / 4;
                for (long i = 0; i < q; i += 64)
                {
                    acc |= Vector512.Load(p + i) ^ Vector512.Load(p + q + i) ^ Vector512.Load(p + 2 * q + i) ^ Vector512.Load(p + 3 * q + i);
                }
            }
            if (acc[0] == 255) Console.Write("");
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _pool?.Dispose();
        if (_data != null) NativeMemory.AlignedFree(_data);
        _data = null;
        GC.SuppressFinalize(this);
    }
}
