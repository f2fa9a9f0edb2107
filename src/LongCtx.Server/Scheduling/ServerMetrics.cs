using Prometheus;

namespace LongCtx.Server.Scheduling;

/// <summary>
/// The server's Prometheus metrics, in a registry of its own (two servers in one process do not
/// share counters). Rates come from counters (tokens and seconds); the t/s gauges are the running
/// averages, for a quick look without PromQL.
/// </summary>
internal sealed class ServerMetrics
{
    private readonly Counter _requests, _promptTokens, _generatedTokens, _prefillSeconds, _decodeSeconds;
    private readonly Counter _prefixLookups, _prefixHits, _prefixLookupTokens, _prefixHitTokens, _prefixEvictions;
    private readonly Gauge _prefillRate, _decodeRate, _queue, _active, _kvBytes, _prefixHitRate, _prefixBytes, _prefixBlocks;

    public ServerMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        MetricFactory f = Metrics.WithCustomRegistry(Registry);
        _requests = f.CreateCounter("longctx_requests_total", "HTTP requests answered, by endpoint and status code.",
            new CounterConfiguration { LabelNames = ["endpoint", "status"] });
        _promptTokens = f.CreateCounter("longctx_prompt_tokens_total", "Prompt tokens evaluated (prefill).");
        _generatedTokens = f.CreateCounter("longctx_generated_tokens_total", "Tokens generated.");
        _prefillSeconds = f.CreateCounter("longctx_prefill_seconds_total", "Time spent in prefill.");
        _decodeSeconds = f.CreateCounter("longctx_decode_seconds_total", "Time spent in decode steps.");
        _prefillRate = f.CreateGauge("longctx_prefill_tokens_per_second", "Prompt tokens per second of prefill time, since start.");
        _decodeRate = f.CreateGauge("longctx_decode_tokens_per_second", "Generated tokens per second of decode time, since start.");
        _queue = f.CreateGauge("longctx_queue_length", "Requests waiting for a free sequence slot.");
        _active = f.CreateGauge("longctx_active_sequences", "Sequences being generated.");
        _kvBytes = f.CreateGauge("longctx_kv_cache_bytes", "Bytes held by the KV caches of running sequences (the prefix cache apart).");
        _prefixLookups = f.CreateCounter("longctx_prefix_cache_lookups_total", "Prompts looked up in the prefix cache.");
        _prefixHits = f.CreateCounter("longctx_prefix_cache_hits_total", "Prompts that reused at least one cached block.");
        _prefixLookupTokens = f.CreateCounter("longctx_prefix_cache_lookup_tokens_total", "Prompt tokens of the prompts looked up.");
        _prefixHitTokens = f.CreateCounter("longctx_prefix_cache_hit_tokens_total", "Prompt tokens whose KV came from the prefix cache (not prefilled).");
        _prefixEvictions = f.CreateCounter("longctx_prefix_cache_evictions_total", "Blocks evicted from the prefix cache (least recently used first).");
        _prefixHitRate = f.CreateGauge("longctx_prefix_cache_hit_rate", "Fraction of looked-up prompt tokens served from the prefix cache, since start.");
        _prefixBytes = f.CreateGauge("longctx_prefix_cache_bytes", "Bytes held by the prefix cache's blocks.");
        _prefixBlocks = f.CreateGauge("longctx_prefix_cache_blocks", "Blocks held by the prefix cache.");
    }

    public CollectorRegistry Registry { get; }

    public void Request(string endpoint, int status) => _requests.WithLabels(endpoint, status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();

    public void Prefilled(int tokens, TimeSpan elapsed)
    {
        _promptTokens.Inc(tokens);
        _prefillSeconds.Inc(elapsed.TotalSeconds);
        _prefillRate.Set(_promptTokens.Value / Math.Max(_prefillSeconds.Value, 1e-9));
    }

    public void Decoded(int tokens, TimeSpan elapsed)
    {
        _generatedTokens.Inc(tokens);
        _decodeSeconds.Inc(elapsed.TotalSeconds);
        _decodeRate.Set(_generatedTokens.Value / Math.Max(_decodeSeconds.Value, 1e-9));
    }

    /// <summary>The first token of a sequence comes from the prefill's logits: counted, but not as decode time.</summary>
    public void FirstToken() => _generatedTokens.Inc();

    public void PrefixLookup(int promptTokens, int hitTokens)
    {
        _prefixLookups.Inc();
        if (hitTokens > 0)
        {
            _prefixHits.Inc();
        }
        _prefixLookupTokens.Inc(promptTokens);
        _prefixHitTokens.Inc(hitTokens);
        _prefixHitRate.Set(_prefixHitTokens.Value / Math.Max(_prefixLookupTokens.Value, 1));
    }

    public void PrefixCacheSize(long bytes, int blocks)
    {
        _prefixBytes.Set(bytes);
        _prefixBlocks.Set(blocks);
    }

    public void PrefixEvicted() => _prefixEvictions.Inc();

    public void Queued(int queued) => _queue.Set(queued);

    public void Occupancy(int queued, int active, long kvBytes)
    {
        _queue.Set(queued);
        _active.Set(active);
        _kvBytes.Set(kvBytes);
    }
}
