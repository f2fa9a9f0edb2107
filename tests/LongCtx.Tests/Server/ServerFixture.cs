using System.ClientModel;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LongCtx.Server;
using LongCtx.Tests.Reference;
using OpenAI;
using OpenAI.Chat;

namespace LongCtx.Tests.Server;

/// <summary>
/// One real server for the server tests: the tiny random-weight llama GGUF (chatml template,
/// byte-level BPE) on an ephemeral loopback port, with an API key and small limits so each
/// limit can be hit cheaply. Small prefill chunks make every prompt span several scheduler steps.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const string Key = "test-key-123";
    public const int ContextSize = 256;
    public const int MaxPromptTokens = 120;
    public const int MaxBodyBytes = 32 * 1024;
    private readonly TempDir _dir = new();

    public LongCtxServer Server { get; private set; } = null!;
    public string ModelPath { get; private set; } = "";
    public HttpClient Http { get; private set; } = null!;
    public Uri BaseAddress => Server.Address;
    public string ModelId => Server.ModelId;

    public async Task InitializeAsync()
    {
        string path = ModelPath = TinyLlamaFile.Write(_dir.File("tiny-chat.gguf"));
        Server = await LongCtxServer.StartAsync(new ServerOptions
        {
            ModelPath = path,
            Port = 0,
            ApiKey = Key,
            ContextSize = ContextSize,
            Parallel = 4,
            MaxPromptTokens = MaxPromptTokens,
            MaxRequestBodyBytes = MaxBodyBytes,
            PrefillChunk = 8,
            Threads = 1,
            RequestTimeout = TimeSpan.FromSeconds(60),
        });
        Http = NewClient(Key);
    }

    public HttpClient NewClient(string? key)
    {
        var client = new HttpClient { BaseAddress = Server.Address, Timeout = TimeSpan.FromSeconds(60) };
        if (key != null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    public ChatClient Chat(string? model = null) => new(model ?? ModelId, new ApiKeyCredential(Key),
        new OpenAIClientOptions { Endpoint = new Uri(Server.Address, "/v1") });

    public OpenAIClient OpenAI() => new(new ApiKeyCredential(Key), new OpenAIClientOptions { Endpoint = new Uri(Server.Address, "/v1") });

    public async Task<(int Status, JsonElement Body)> PostAsync(string path, string json, HttpClient? client = null)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await (client ?? Http).PostAsync(path, content);
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    public async Task<string> MetricsAsync() => await Http.GetStringAsync("/metrics");

    /// <summary>A metric's value from the Prometheus text (the unlabelled series).</summary>
    public async Task<double> MetricAsync(string name)
    {
        foreach (string line in (await MetricsAsync()).Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        throw new Xunit.Sdk.XunitException($"metric {name} not found");
    }

    /// <summary>Waits (bounded) until the scheduler reports no running sequence and no KV bytes.</summary>
    public async Task WaitIdleAsync()
    {
        for (int i = 0; i < 200; i++)
        {
            if (await MetricAsync("longctx_active_sequences") == 0 && await MetricAsync("longctx_kv_cache_bytes") == 0)
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException("the server did not become idle: " + await MetricsAsync());
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        _dir.Dispose();
    }
}

[CollectionDefinition("Server")]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>;
