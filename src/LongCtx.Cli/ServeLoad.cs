using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using LongCtx.Server;

namespace LongCtx.Cli;

/// <summary>Settings of a bounded load run (<c>longctx serve-load</c>).</summary>
internal sealed record ServeLoadOptions
{
    /// <summary>The model served.</summary>
    public required string ModelPath { get; init; }
    /// <summary>Concurrent clients, each sending one request after another.</summary>
    public int Clients { get; init; } = 16;
    /// <summary>No client starts a request after this long; requests in flight then finish.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Longest answer asked for; each request asks for 8 up to this many tokens.</summary>
    public int MaxTokens { get; init; } = 32;
    /// <summary>The server's settings (port, model and prefix cache are set by the run; the rest is passed through).</summary>
    public ServerOptions Server { get; init; } = new() { Parallel = 4, ContextSize = 2048, PrefixCacheBytes = 64L << 20 };
    /// <summary>Characters of each of the four shared system prompts (about one token each on a byte-level vocabulary); user messages add 20 up to a third of it.</summary>
    public int PromptChars { get; init; } = 600;
    /// <summary>Seed of the prompts, lengths and sampling seeds.</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>What a load run measured.</summary>
internal sealed record ServeLoadReport(
    int Clients, TimeSpan Elapsed, int Requests, int Failed, long PromptTokens, long CompletionTokens, long CachedTokens,
    double PrefilledTokens, double LatencyP50, double LatencyP95, double KvBytesBefore, double KvBytesAfter, double ActiveAfter,
    double PrefixCacheBytes, long PrefixCacheBudget, IReadOnlyList<string> Errors)
{
    public double RequestsPerSecond => Requests / Elapsed.TotalSeconds;
    public double CompletionTokensPerSecond => CompletionTokens / Elapsed.TotalSeconds;
    public double PromptTokensPerSecond => PromptTokens / Elapsed.TotalSeconds;
    public double PrefixHitRate => PromptTokens == 0 ? 0 : (double)CachedTokens / PromptTokens;
    /// <summary>No failed request, every sequence gone, KV bytes back to the baseline, the prefix cache within its budget.</summary>
    public bool Passed => Failed == 0 && Requests > 0 && ActiveAfter == 0 && KvBytesAfter == KvBytesBefore && PrefixCacheBytes <= PrefixCacheBudget;
}

/// <summary>
/// A bounded load run on loopback: starts the server in-process on a free 127.0.0.1 port, runs
/// <see cref="ServeLoadOptions.Clients"/> clients for <see cref="ServeLoadOptions.Duration"/>
/// (chat requests, half of them streamed, over four shared system prompts so the prefix cache
/// works, sampled at temperature 0.8 with per-request seeds), waits for the server to go idle and
/// reads its /metrics. Nothing leaves the machine; it stops by itself.
/// </summary>
internal static class ServeLoad
{
    public static async Task<ServeLoadReport> RunAsync(ServeLoadOptions o, TextWriter? log = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(o.Clients, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(o.MaxTokens, 8);
        ArgumentOutOfRangeException.ThrowIfLessThan(o.PromptChars, 60);
        await using LongCtxServer server = await LongCtxServer.StartAsync(o.Server with { ModelPath = o.ModelPath, Host = "127.0.0.1", Port = 0, ApiKey = null });
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = o.Server.RequestTimeout + TimeSpan.FromSeconds(30) };
        string[] systems = [.. Enumerable.Range(0, 4).Select(i => Words(new Random(o.Seed * 100 + i), o.PromptChars))];
        double kvBefore = await MetricAsync(http, "longctx_kv_cache_bytes");
        log?.WriteLine($"serving {server.ModelId} on {server.Address}; {o.Clients} clients for {o.Duration.TotalSeconds:0.#} s");

        var results = new List<(bool Ok, double Seconds, long Prompt, long Completion, long Cached, string? Error)>();
        var start = Stopwatch.StartNew();
        async Task Client(int id)
        {
            var rng = new Random(o.Seed * 1000 + id);
            for (int n = 0; start.Elapsed < o.Duration; n++)
            {
                var request = new Dictionary<string, object>
                {
                    ["model"] = server.ModelId,
                    ["messages"] = new object[]
                    {
                        new { role = "system", content = systems[rng.Next(systems.Length)] },
                        new { role = "user", content = $"client {id} request {n}: " + Words(rng, rng.Next(20, o.PromptChars / 3)) },
                    },
                    ["max_tokens"] = rng.Next(8, o.MaxTokens + 1),
                    ["temperature"] = 0.8,
                    ["seed"] = rng.Next(),
                    ["ignore_eos"] = rng.Next(2) == 0,
                };
                bool stream = n % 2 == 1;
                if (stream)
                {
                    request["stream"] = true;
                    request["stream_options"] = new { include_usage = true };
                }
                var watch = Stopwatch.StartNew();
                (bool Ok, double, long, long, long, string?) result;
                try
                {
                    JsonElement usage = await SendAsync(http, JsonSerializer.Serialize(request), stream);
                    result = (true, watch.Elapsed.TotalSeconds, usage.GetProperty("prompt_tokens").GetInt64(), usage.GetProperty("completion_tokens").GetInt64(),
                        usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt64(), null);
                }
                catch (Exception e) when (e is HttpRequestException or InvalidDataException or JsonException or KeyNotFoundException or TaskCanceledException or IOException)
                {
                    result = (false, watch.Elapsed.TotalSeconds, 0, 0, 0, $"client {id} request {n}: {e.Message}");
                }
                lock (results)
                {
                    results.Add(result);
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, o.Clients).Select(i => Task.Run(() => Client(i))));
        TimeSpan elapsed = start.Elapsed;

        // The server is idle once every sequence has ended; its KV bytes must be back where they started.
        double kvAfter = 0, active = 0;
        for (int i = 0; i < 200; i++)
        {
            kvAfter = await MetricAsync(http, "longctx_kv_cache_bytes");
            active = await MetricAsync(http, "longctx_active_sequences");
            if (active == 0 && kvAfter == kvBefore)
            {
                break;
            }
            await Task.Delay(50);
        }
        double[] latencies = [.. results.Where(r => r.Ok).Select(r => r.Seconds).Order()];
        return new ServeLoadReport(o.Clients, elapsed, results.Count(r => r.Ok), results.Count(r => !r.Ok),
            results.Sum(r => r.Prompt), results.Sum(r => r.Completion), results.Sum(r => r.Cached),
            await MetricAsync(http, "longctx_prompt_tokens_total"), Percentile(latencies, 0.5), Percentile(latencies, 0.95),
            kvBefore, kvAfter, active, await MetricAsync(http, "longctx_prefix_cache_bytes"), o.Server.PrefixCacheBytes,
            [.. results.Where(r => !r.Ok).Select(r => r.Error!).Take(10)]);
    }

    public static void Print(ServeLoadReport r, TextWriter w)
    {
        w.WriteLine($"clients            {r.Clients}");
        w.WriteLine($"elapsed            {r.Elapsed.TotalSeconds:F1} s");
        w.WriteLine($"requests           {r.Requests} ok, {r.Failed} failed");
        w.WriteLine($"requests/s         {r.RequestsPerSecond:F2}");
        w.WriteLine($"generated tok/s    {r.CompletionTokensPerSecond:F1}  ({r.CompletionTokens} tokens)");
        w.WriteLine($"prompt tok/s       {r.PromptTokensPerSecond:F1}  ({r.PromptTokens} tokens, {r.PrefilledTokens:F0} prefilled)");
        w.WriteLine($"prefix hit rate    {r.PrefixHitRate:P1}  ({r.CachedTokens} prompt tokens from the cache)");
        w.WriteLine($"latency p50 / p95  {r.LatencyP50:F2} s / {r.LatencyP95:F2} s");
        w.WriteLine($"KV bytes           {r.KvBytesBefore:F0} before, {r.KvBytesAfter:F0} after ({r.ActiveAfter:F0} sequences left)");
        w.WriteLine($"prefix cache       {r.PrefixCacheBytes / (1 << 20):F1} MiB of {r.PrefixCacheBudget / (1 << 20)} MiB");
        foreach (string e in r.Errors)
        {
            w.WriteLine($"error: {e}");
        }
        w.WriteLine(r.Passed ? "PASS" : "FAIL");
    }

    /// <summary>Sends one chat request and returns its usage; throws <see cref="InvalidDataException"/> on any answer but a complete one.</summary>
    private static async Task<JsonElement> SendAsync(HttpClient http, string json, bool stream)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = content };
        using HttpResponseMessage response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidDataException($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        if (!stream)
        {
            using JsonDocument doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return doc.RootElement.GetProperty("usage").Clone();
        }
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        JsonElement? usage = null;
        while (await reader.ReadLineAsync() is string line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }
            string data = line["data: ".Length..];
            if (data == "[DONE]")
            {
                return usage ?? throw new InvalidDataException("the stream ended without a usage chunk");
            }
            using JsonDocument doc = JsonDocument.Parse(data);
            if (doc.RootElement.TryGetProperty("error", out JsonElement error))
            {
                throw new InvalidDataException("stream error: " + error.GetProperty("message").GetString());
            }
            if (doc.RootElement.TryGetProperty("usage", out JsonElement u) && u.ValueKind == JsonValueKind.Object)
            {
                usage = u.Clone();
            }
        }
        throw new InvalidDataException("the stream ended without [DONE]");
    }

    private static async Task<double> MetricAsync(HttpClient http, string name)
    {
        foreach (string line in (await http.GetStringAsync("/metrics")).Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidDataException($"metric {name} not in /metrics");
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    /// <summary>About <paramref name="chars"/> characters of random lower-case words.</summary>
    private static string Words(Random rng, int chars)
    {
        var s = new StringBuilder();
        while (s.Length < chars)
        {
            for (int i = rng.Next(2, 9); i > 0; i--)
            {
                s.Append((char)('a' + rng.Next(26)));
            }
            s.Append(' ');
        }
        return s.ToString();
    }
}
