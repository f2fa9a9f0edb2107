using System.Text.Json;
using OpenAI.Models;

namespace LongCtx.Tests.Server;

/// <summary>GET /v1/models, /health and /metrics.</summary>
[Collection("Server")]
public sealed class ModelsTests(ServerFixture server)
{
    [Fact]
    public async Task ModelsListsTheServedModel()
    {
        OpenAIModelCollection models = (await server.OpenAI().GetOpenAIModelClient().GetModelsAsync()).Value;
        OpenAIModel only = Assert.Single(models);
        Assert.Equal("tiny-chat.gguf", only.Id);
        Assert.Equal("longctx", only.OwnedBy);

        JsonElement raw = JsonDocument.Parse(await server.Http.GetStringAsync("/v1/models")).RootElement;
        Assert.Equal("chatml", raw.GetProperty("data")[0].GetProperty("meta").GetProperty("chat_template").GetString());
        Assert.Equal(ServerFixture.ContextSize, raw.GetProperty("data")[0].GetProperty("meta").GetProperty("n_ctx").GetInt32());
    }

    [Fact]
    public async Task HealthNeedsNoKey()
    {
        using HttpClient anonymous = server.NewClient(null);
        Assert.Equal("ok", JsonDocument.Parse(await anonymous.GetStringAsync("/health")).RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task MetricsCountRequestsAndTokens()
    {
        double promptBefore = await server.MetricAsync("longctx_prompt_tokens_total");
        double generatedBefore = await server.MetricAsync("longctx_generated_tokens_total");
        (int status, JsonElement body) = await server.PostAsync("/v1/completions", """{"prompt":"metrics please","temperature":0,"max_tokens":5}""");
        Assert.Equal(200, status);
        JsonElement usage = body.GetProperty("usage");

        // Other tests of the collection run in sequence, so the deltas are this request's.
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32(), await server.MetricAsync("longctx_prompt_tokens_total") - promptBefore);
        Assert.Equal(usage.GetProperty("completion_tokens").GetInt32(), await server.MetricAsync("longctx_generated_tokens_total") - generatedBefore);
        string metrics = await server.MetricsAsync();
        Assert.Contains("longctx_requests_total{endpoint=\"/v1/completions\",status=\"200\"}", metrics);
        foreach (string name in new[] { "longctx_queue_length", "longctx_kv_cache_bytes", "longctx_prefill_tokens_per_second", "longctx_decode_tokens_per_second" })
        {
            Assert.Contains(name + " ", metrics);
        }
        Assert.True(await server.MetricAsync("longctx_prefill_tokens_per_second") > 0);
        await server.WaitIdleAsync();
    }
}
