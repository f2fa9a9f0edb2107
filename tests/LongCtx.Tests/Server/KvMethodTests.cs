using System.Text;
using System.Text.Json;
using LongCtx.Generation;
using LongCtx.Generation.Sampling;
using LongCtx.KvCache;
using LongCtx.Models;

namespace LongCtx.Tests.Server;

/// <summary>The per-request "kv" field: the method is applied as <c>generate --kv</c> applies it, and a bad spec is a 400 naming it.</summary>
[Collection("Server")]
public sealed class KvMethodTests(ServerFixture server)
{
    private const string Prompt = "the cat sat on the mat and the dog sat on the log while the bird sang a song in the tree by the sea";

    [Theory]
    [InlineData("snapkv:ratio=0.5,window=8")]
    [InlineData("streamingllm:ratio=0.7,sinks=2+int8:group=8,window=8")]
    [InlineData("quest:budget=16,page=4,dense_layers=0")]
    public async Task TheAnswerIsTheEnginesWithTheSameMethod(string spec)
    {
        (int status, JsonElement body) = await server.PostAsync("/v1/completions",
            JsonSerializer.Serialize(new { prompt = Prompt, temperature = 0, max_tokens = 12, ignore_eos = true, kv = spec }));
        Assert.Equal(200, status);

        // The CLI's way (TextGenerator: press after a fresh prefill, selector per step), in the server's prefill chunks.
        using Model model = Model.Load(server.ModelPath, new ModelOptions { Threads = 1 });
        KvMethod method = KvMethodRegistry.Parse(spec);
        var session = new Session(model, new SessionOptions { ContextSize = ServerFixture.ContextSize, BatchSize = 8 }) { Selector = method.Selector };
        var sampling = new SamplingOptions { Temperature = 0, LogitBias = model.Tokenizer.EndOfGenerationTokens.ToDictionary(t => t, _ => float.NegativeInfinity) };
        var generator = new TextGenerator(session, model.Tokenizer, new SamplerChain(sampling, model.Config.VocabSize)) { Press = method.Press };
        var text = new StringBuilder();
        generator.Generate(model.Tokenizer.Encode(Prompt, addSpecial: true, parseSpecial: true), new StopCondition(maxTokens: 12), t => text.Append(t));

        Assert.Equal(text.ToString(), body.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(session.Cache.TotalCount, body.GetProperty("longctx").GetProperty("kv_cache_entries").GetInt64());
        Assert.Equal(0, body.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
    }

    [Theory]
    [InlineData("snapkv:ratio=2")]
    [InlineData("snapkv:budget=8")]
    [InlineData("quest:budget=8+tokenselect")]
    [InlineData("magic")]
    [InlineData("snapkv:ratio=")]
    public async Task ABadSpecIsA400NamingItAndTheServerKeepsServing(string spec)
    {
        (int status, JsonElement body) = await server.PostAsync("/v1/chat/completions",
            JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = "hi" } }, kv = spec }));
        Assert.Equal(400, status);
        JsonElement error = body.GetProperty("error");
        Assert.Equal("kv", error.GetProperty("param").GetString());
        Assert.Equal("invalid_value", error.GetProperty("code").GetString());
        Assert.Contains($"'{spec}'", error.GetProperty("message").GetString());
        (int ok, _) = await server.PostAsync("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}],"max_tokens":2,"kv":"full"}""");
        Assert.Equal(200, ok);
    }
}
