using System.Diagnostics;
using LongCtx.Generation;
using LongCtx.Generation.Sampling;
using LongCtx.KvCache;
using LongCtx.Models;
using LongCtx.Tokenization;

namespace LongCtx.Server.Scheduling;

/// <summary>
/// A request being generated: its own <see cref="Session"/>, sampler chain and stop condition.
/// The scheduler calls <see cref="Step"/> once per round; a step is one prefill chunk or one token,
/// so every running sequence advances between any two steps of another.
/// </summary>
/// <remarks>
/// Without a press, the session starts from the longest cached prefix of the prompt (whole blocks,
/// at least one token left to prefill for the first logits) and, without a selector either, its
/// prompt's blocks enter the cache after the prefill. With a press (the request's <c>"kv"</c>), the prompt is prefilled fresh while the
/// press observes, then compressed, and nothing enters the cache. Prefill chunks end at multiples of
/// the chunk size whatever the cached length, so a hit computes in the same batches as a fresh prefill.
/// </remarks>
internal sealed class ActiveSequence
{
    private readonly SequenceRequest _request;
    private readonly Tokenizer _tokenizer;
    private readonly Session _session;
    private readonly SamplerChain _sampler;
    private readonly StopCondition _stop;
    private readonly int _prefillChunk;
    private readonly IKvPress? _press;
    private readonly PrefixCache? _prefixCache;
    private readonly int _cached;
    private int _prefilled;
    private int _generated;
    private int _last = -1;

    public ActiveSequence(SequenceRequest request, Model model, SessionOptions sessionOptions, int prefillChunk, PrefixCache? prefixCache)
    {
        _request = request;
        _tokenizer = model.Tokenizer;
        _session = new Session(model, sessionOptions) { Selector = request.Kv?.Selector };
        _sampler = new SamplerChain(request.Sampling, model.Config.VocabSize);
        _stop = new StopCondition(request.Stop, _tokenizer.EndOfGenerationTokens, request.MaxTokens);
        _prefillChunk = prefillChunk;
        _press = request.Kv?.Press;
        foreach (int token in request.Prompt)
        {
            _sampler.Accept(token);   // the penalties see the prompt, as llama.cpp's server
        }
        if (_press != null)
        {
            _session.Observe(_press);   // a fresh prefill the press sees whole; its compressed KV stays out of the prefix cache
            return;
        }
        _prefixCache = prefixCache;
        if (_prefixCache != null)
        {
            foreach (KvBlock block in _prefixCache.Match(request.Prompt, request.Prompt.Length - 1))
            {
                _session.AppendBlock(block);
            }
            _cached = _prefilled = _session.Position;
        }
    }

    public SequenceRequest Request => _request;
    public long KvCacheBytes => _session.KvCacheBytes;
    /// <summary>Prompt tokens whose KV came from the prefix cache.</summary>
    public int CachedTokens => _cached;
    public bool IsPrefilling => _prefilled < _request.Prompt.Length;

    /// <summary>Runs one step; returns true when the sequence has ended (its events are complete).</summary>
    public bool Step(ServerMetrics metrics)
    {
        if (_request.Cancel.IsCancellationRequested)
        {
            _request.Events.Writer.TryComplete();
            return true;
        }
        long start = Stopwatch.GetTimestamp();
        ReadOnlySpan<float> logits;
        if (IsPrefilling)
        {
            // Chunks end at multiples of the chunk size, after a cache hit too: the same batches as a fresh prefill.
            int n = Math.Min(_prefillChunk - _prefilled % _prefillChunk, _request.Prompt.Length - _prefilled);
            logits = _session.Prefill(_request.Prompt.AsSpan(_prefilled, n));
            _prefilled += n;
            metrics.Prefilled(n, Stopwatch.GetElapsedTime(start));
            if (IsPrefilling)
            {
                return false;
            }
            if (_press != null)
            {
                _session.Compress(_press);   // the logits of the last prompt token stay valid: compression reads the cache only
            }
            else if (_session.Selector is null)
            {
                // Only a plain prefill fills the cache: a selector also runs on a one-token chunk, and what it reads shapes the KV after it.
                _prefixCache?.Insert(_request.Prompt, _session.Cache);
            }
            metrics.FirstToken();
        }
        else
        {
            logits = _session.Decode(_last);
            metrics.Decoded(1, Stopwatch.GetElapsedTime(start));
        }
        return Sample(logits);
    }

    private bool Sample(ReadOnlySpan<float> logits)
    {
        int token = _sampler.Sample(logits);
        _sampler.Accept(token);
        _last = token;
        _generated++;
        ReadOnlySpan<char> text = _stop.Append(token, _tokenizer.TokenToBytes(token));
        Emit(text);
        if (_stop.IsStopped)
        {
            return Finish(_stop.Reason == StopReason.MaxTokens ? "length" : "stop");
        }
        if (_session.Position >= _session.ContextSize)
        {
            Emit(_stop.Finish());   // no room to evaluate this token: the context is full
            return Finish("length");
        }
        return false;
    }

    private void Emit(ReadOnlySpan<char> text)
    {
        if (!text.IsEmpty)
        {
            _request.Events.Writer.TryWrite(new TextEvent(new string(text)));
        }
    }

    private bool Finish(string reason)
    {
        _request.Events.Writer.TryWrite(new FinishedEvent(reason, _request.Prompt.Length, _generated, _cached, _session.KvCacheBytes, _session.Cache.TotalCount));
        _request.Events.Writer.TryComplete();
        return true;
    }
}
