using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LongCtx.Models;
using LongCtx.Server;
using LongCtx.Tensors;

namespace LongCtx.Tests.Server;

/// <summary>
/// A client that goes away, and a request that runs past the timeout, end their sequence and free
/// its session. A server of its own over a model slow enough (a long context, no token budget)
/// that the generation is still running when the cancellation arrives.
/// </summary>
public sealed class CancellationTests : IAsyncLifetime
{
    private const int Context = 8192;
    private readonly TempDir _dir = new();
    private LongCtxServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        string path = _dir.File("slow.gguf");
        SyntheticModel.Write(path, new SyntheticShape { EmbeddingLength = 256, FeedForwardLength = 768, BlockCount = 4, ContextLength = Context }, GgmlType.F32);
        _server = await LongCtxServer.StartAsync(new ServerOptions
        {
            ModelPath = path, Port = 0, ContextSize = Context, Parallel = 2, Threads = 1,
            RequestTimeout = TimeSpan.FromSeconds(1.5),
        });
        _http = new HttpClient { BaseAddress = _server.Address };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task DisconnectedStreamStopsItsSequenceAndFreesItsSession()
    {
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = Json("""{"prompt":"go on forever","stream":true,"temperature":0,"ignore_eos":true,"max_tokens":100000}""") })
        using (HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync());   // generation is running
            Assert.True(await Metric("longctx_kv_cache_bytes") > 0);
        }   // the client hangs up
        await WaitIdle();
        // Far fewer tokens than the context would have allowed: the sequence ended early.
        Assert.True(await Metric("longctx_generated_tokens_total") < Context / 2);
    }

    [Fact]
    public async Task RequestPastTheTimeoutIs408AndTheServerKeepsServing()
    {
        using HttpResponseMessage response = await _http.PostAsync("/v1/completions", Json("""{"prompt":"go on forever","temperature":0,"ignore_eos":true,"max_tokens":100000}"""));
        Assert.True(response.StatusCode == HttpStatusCode.RequestTimeout, await response.Content.ReadAsStringAsync());
        JsonElement error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("timeout_error", error.GetProperty("type").GetString());
        await WaitIdle();

        using HttpResponseMessage ok = await _http.PostAsync("/v1/completions", Json("""{"prompt":"short","max_tokens":2}"""));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    private async Task<double> Metric(string name)
    {
        string text = await _http.GetStringAsync("/metrics");
        string line = text.Split('\n').First(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
    }

    private async Task WaitIdle()
    {
        for (int i = 0; i < 200 && (await Metric("longctx_active_sequences") > 0 || await Metric("longctx_kv_cache_bytes") > 0); i++)
        {
            await Task.Delay(50);
        }
        Assert.Equal(0, await Metric("longctx_active_sequences"));
        Assert.Equal(0, await Metric("longctx_kv_cache_bytes"));
    }
}
