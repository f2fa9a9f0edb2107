using System.Text;
using System.Text.Json;
using LongCtx.Models;
using LongCtx.Tokenization;

namespace LongCtx.Tests.Server;

/// <summary>POST /v1/completions (raw HTTP: the OpenAI .NET client has no legacy completions API).</summary>
[Collection("Server")]
public sealed class CompletionsTests(ServerFixture server)
{
    [Fact]
    public async Task TextCompletionIsTheEnginesGreedyContinuation()
    {
        (int status, JsonElement body) = await server.PostAsync("/v1/completions", """{"prompt":"hello world, once upon","temperature":0,"max_tokens":9}""");
        Assert.Equal(200, status);
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        Assert.StartsWith("cmpl-", body.GetProperty("id").GetString());
        Assert.Equal(server.ModelId, body.GetProperty("model").GetString());

        using Model model = Model.Load(server.ModelPath);
        int[] prompt = model.Tokenizer.Encode("hello world, once upon", addSpecial: true, parseSpecial: true);
        (string expected, int generated, bool eog) = ChatCompletionsTests.GreedyReference(model, prompt, 9);
        JsonElement choice = body.GetProperty("choices")[0];
        Assert.Equal(expected, choice.GetProperty("text").GetString());
        Assert.Equal(eog ? "stop" : "length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(prompt.Length, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(generated, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task DefaultIsSixteenTokensAndChatTemplateIsNotApplied()
    {
        // The chat endpoint's prompt, rendered by hand, gives the chat answer: the two endpoints share one generator.
        string rendered = ChatTemplate.FromName("chatml").Render([new("user", "same prompt")], addAssistant: true);
        (_, JsonElement text) = await server.PostAsync("/v1/completions", JsonSerializer.Serialize(new { prompt = new[] { rendered }, temperature = 0 }));
        (_, JsonElement chat) = await server.PostAsync("/v1/chat/completions", """{"messages":[{"role":"user","content":"same prompt"}],"temperature":0,"max_tokens":16}""");
        Assert.InRange(text.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), 1, 16);
        Assert.Equal(chat.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(),
            text.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task StreamConcatenatesToTheWholeText()
    {
        const string prompt = "\"prompt\":\"the quick brown fox\",\"temperature\":0,\"max_tokens\":8";
        (_, JsonElement whole) = await server.PostAsync("/v1/completions", "{" + prompt + "}");
        using var content = new StringContent("{" + prompt + ",\"stream\":true}", Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await server.Http.PostAsync("/v1/completions", content);
        string[] events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        var text = new StringBuilder();
        foreach (string e in events[..^1])
        {
            JsonElement chunk = JsonDocument.Parse(e["data: ".Length..]).RootElement;
            Assert.Equal("text_completion", chunk.GetProperty("object").GetString());
            text.Append(chunk.GetProperty("choices")[0].GetProperty("text").GetString());
        }
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("text").GetString(), text.ToString());
    }
}
