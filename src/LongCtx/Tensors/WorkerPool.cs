using System.Runtime.ExceptionServices;

namespace LongCtx.Tensors;

/// <summary>A piece of parallel work over index ranges; implemented by structs so that dispatch allocates nothing.</summary>
public interface IParallelWork
{
    /// <summary>Processes items [<paramref name="start"/>, <paramref name="end"/>).</summary>
    void Execute(int start, int end);
}

/// <summary>
/// One persistent set of worker threads for the kernels. <see cref="For{T}"/> splits [0, count)
/// into chunks that the workers and the calling thread take in turn. Workers spin briefly after
/// each dispatch before blocking, because decode issues hundreds of dispatches per token.
/// Dispatches from several threads at once are serialized.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private const int SpinIterations = 20_000;

    private readonly Thread[] _threads;
    private readonly long[] _workerAllocated;
    private readonly Lock _dispatch = new();
    private readonly object _sleep = new();
    private readonly Dictionary<Type, Runner> _runners = [];
    private Runner? _current;
    private int _generation;
    private int _sleepers;
    private int _count, _chunkSize, _chunks, _nextChunk, _pending;
    private ExceptionDispatchInfo? _error;
    private volatile bool _disposed;

    /// <summary>Creates a pool in which <paramref name="threadCount"/> threads, the caller included, run each dispatch.</summary>
    /// <param name="threadCount">Total participants; defaults to <see cref="Environment.ProcessorCount"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threadCount"/> is less than 1.</exception>
    public WorkerPool(int threadCount = 0)
    {
        if (threadCount == 0) threadCount = Environment.ProcessorCount;
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        ThreadCount = threadCount;
        _threads = new Thread[threadCount - 1];
        _workerAllocated = new long[threadCount - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int index = i;
            _threads[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"LongCtx worker {i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Threads taking part in each dispatch, the calling thread included.</summary>
    public int ThreadCount { get; }

    /// <summary>
    /// Runs <paramref name="work"/> over [0, <paramref name="count"/>) in contiguous chunks and returns
    /// when all are done. The struct is copied once into a slot reused for its type; after the first
    /// dispatch of a given <typeparamref name="T"/>, no allocation happens.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    /// <exception cref="Exception">The first exception a chunk threw is rethrown on the caller.</exception>
    public void For<T>(int count, in T work) where T : struct, IParallelWork
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (count <= 0) return;
        if (_threads.Length == 0 || count == 1)
        {
            work.Execute(0, count);
            return;
        }
        lock (_dispatch)
        {
            if (!_runners.TryGetValue(typeof(T), out Runner? r))
            {
                r = new Runner<T>();
                _runners[typeof(T)] = r;
            }
            ((Runner<T>)r).Work = work;
            _current = r;
            // A few chunks per thread balance uneven progress without many atomics.
            _chunks = Math.Min(count, ThreadCount * 4);
            _chunkSize = (count + _chunks - 1) / _chunks;
            _chunks = (count + _chunkSize - 1) / _chunkSize;
            _count = count;
            _nextChunk = 0;
            _error = null;
            _pending = _threads.Length;
            Interlocked.Increment(ref _generation);
            if (Volatile.Read(ref _sleepers) > 0)
            {
                lock (_sleep) Monitor.PulseAll(_sleep);
            }
            RunChunks();
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(-1);
            ((Runner<T>)r).Work = default;
            _current = null;
            _error?.Throw();
        }
    }

    private void RunChunks()
    {
        Runner r = _current!;
        while (true)
        {
            int c = Interlocked.Increment(ref _nextChunk) - 1;
            if (c >= _chunks) return;
            int start = c * _chunkSize;
            int end = Math.Min(_count, start + _chunkSize);
            try
            {
                r.Execute(start, end);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
            }
        }
    }

    /// <summary>Bytes the worker threads have allocated on the managed heap so far (as of their last dispatch): tests check that kernels allocate nothing.</summary>
    internal long WorkerAllocatedBytes
    {
        get
        {
            long sum = 0;
            for (int i = 0; i < _workerAllocated.Length; i++) sum += Volatile.Read(ref _workerAllocated[i]);
            return sum;
        }
    }

    private void WorkerLoop(int index)
    {
        int seen = 0;
        while (true)
        {
            int spins = 0;
            while (Volatile.Read(ref _generation) == seen && !_disposed)
            {
                if (++spins < SpinIterations)
                {
                    Thread.SpinWait(20);
                    continue;
                }
                Interlocked.Increment(ref _sleepers);
                lock (_sleep)
                {
                    while (Volatile.Read(ref _generation) == seen && !_disposed) Monitor.Wait(_sleep);
                }
                Interlocked.Decrement(ref _sleepers);
            }
            if (_disposed) return;
            seen = Volatile.Read(ref _generation);
            RunChunks();
            Volatile.Write(ref _workerAllocated[index], GC.GetAllocatedBytesForCurrentThread());
            Interlocked.Decrement(ref _pending);
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (_sleep) Monitor.PulseAll(_sleep);
        foreach (Thread t in _threads) t.Join();
    }

    private abstract class Runner
    {
        public abstract void Execute(int start, int end);
    }

    private sealed class Runner<T> : Runner where T : struct, IParallelWork
    {
        public T Work;
        public override void Execute(int start, int end) => Work.Execute(start, end);
    }
}
