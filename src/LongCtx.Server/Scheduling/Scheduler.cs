using System.Threading.Channels;
using LongCtx.Generation;
using LongCtx.Models;

namespace LongCtx.Server.Scheduling;

/// <summary>
/// The one loop that owns the model (llama.cpp's server: handlers enqueue, one loop computes).
/// Each round it admits queued requests up to <c>parallel</c> running sequences, then advances
/// every running sequence by one step: a prefill chunk or one token. New requests thus join
/// between decode steps, and a long prompt is spread over rounds instead of stalling the streams.
/// A new sequence starts from the longest prefix of its prompt in the <see cref="PrefixCache"/>.
/// </summary>
/// <remarks>
/// Sequences are interleaved, not batched: each step is its own forward pass over its own
/// <see cref="Session"/>. Batching the matrix products of all running sequences into one pass
/// (one weight read per round) is the next phase's work; it changes only this loop and the engine.
/// </remarks>
internal sealed class Scheduler : IDisposable
{
    private readonly Model _model;
    private readonly SessionOptions _sessionOptions;
    private readonly int _parallel, _prefillChunk;
    private readonly ServerMetrics _metrics;
    private readonly PrefixCache? _prefixCache;
    private readonly Channel<SequenceRequest> _queue = Channel.CreateUnbounded<SequenceRequest>();   // multi-reader form: it can count (the queue-length gauge)
    private readonly List<ActiveSequence> _active = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _thread;

    /// <summary>Starts the loop; <paramref name="prefixCache"/> (KV of prompt prefixes shared across requests, or null) is touched only by it.</summary>
    public Scheduler(Model model, SessionOptions sessionOptions, int parallel, int prefillChunk, PrefixCache? prefixCache, ServerMetrics metrics)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parallel, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(prefillChunk, 1);
        _model = model;
        _sessionOptions = sessionOptions;
        _parallel = parallel;
        _prefillChunk = prefillChunk;
        _metrics = metrics;
        _prefixCache = prefixCache;
        _thread = new Thread(Run) { IsBackground = true, Name = "longctx-scheduler" };
        _thread.Start();
    }

    /// <summary>Queues a request; its answer arrives on <see cref="SequenceRequest.Events"/>.</summary>
    public void Enqueue(SequenceRequest request)
    {
        if (!_queue.Writer.TryWrite(request))
        {
            throw new InvalidOperationException("the server is shutting down");
        }
        _metrics.Queued(_queue.Reader.Count);
    }

    private void Run()
    {
        CancellationToken stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            Admit();
            if (_active.Count == 0)
            {
                try
                {
                    if (!_queue.Reader.WaitToReadAsync(stopping).AsTask().GetAwaiter().GetResult())
                    {
                        break;   // completed: shutting down
                    }
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }
            for (int i = 0; i < _active.Count; i++)
            {
                ActiveSequence sequence = _active[i];
                bool done;
                try
                {
                    done = sequence.Step(_metrics);
                }
                catch (Exception e)
                {
                    // One failed sequence must not take the loop (and every other stream) down; its session is dropped.
                    sequence.Request.Events.Writer.TryWrite(new FailedEvent(e.Message));
                    sequence.Request.Events.Writer.TryComplete();
                    done = true;
                }
                if (done)
                {
                    _active.RemoveAt(i--);   // its Session (and KV cache) goes with it
                }
            }
            ReportOccupancy();
        }
        foreach (ActiveSequence sequence in _active)
        {
            sequence.Request.Events.Writer.TryWrite(new FailedEvent("the server is shutting down"));
            sequence.Request.Events.Writer.TryComplete();
        }
        _active.Clear();
    }

    private void Admit()
    {
        while (_active.Count < _parallel && _queue.Reader.TryRead(out SequenceRequest? request))
        {
            if (request.Cancel.IsCancellationRequested)
            {
                request.Events.Writer.TryComplete();   // gone before it started
                continue;
            }
            try
            {
                _active.Add(new ActiveSequence(request, _model, _sessionOptions, _prefillChunk, _prefixCache));
            }
            catch (Exception e)
            {
                request.Events.Writer.TryWrite(new FailedEvent(e.Message));
                request.Events.Writer.TryComplete();
            }
        }
        ReportOccupancy();
    }

    private void ReportOccupancy()
    {
        long kv = 0;
        foreach (ActiveSequence sequence in _active)
        {
            kv += sequence.KvCacheBytes;
        }
        _metrics.Occupancy(_queue.Reader.Count, _active.Count, kv);
    }

    /// <summary>Stops the loop after its current step; running and queued requests get a failure event.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _stopping.Cancel();
        _thread.Join();
        while (_queue.Reader.TryRead(out SequenceRequest? request))
        {
            request.Events.Writer.TryWrite(new FailedEvent("the server is shutting down"));
            request.Events.Writer.TryComplete();
        }
        _stopping.Dispose();
    }
}
