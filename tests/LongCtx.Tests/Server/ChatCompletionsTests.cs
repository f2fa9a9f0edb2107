using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LongCtx.Generation;
using LongCtx.Models;
using LongCtx.Tokenization;
using ChatMessage = OpenAI.Chat.ChatMessage;
using OpenAI.Chat;

namespace LongCtx.Tests.Server;

/// <summary>POST /v1/chat/completions through the official OpenAI client and raw HTTP.</summary>
[Collection("Server")]
public sealed class ChatCompletionsTests(ServerFixture server)
{
    private static ChatCompletionOptions Greedy(int maxTokens) => new() { Temperature = 0f, MaxOutputTokenCount = maxTokens };

    [Fact]
    public async Task GreedyAnswerIsTheEnginesGreedyContinuationOfTheTemplatedPrompt()
    {
        ChatCompletion completion = (await server.Chat().CompleteChatAsync(
            [new SystemChatMessage("You are terse."), new UserChatMessage("hello world")], Greedy(10))).Value;

        // The same prompt, rendered and generated in process: what the server must have done.
        using Model model = Model.Load(ModelPath());
        string text = ChatTemplate.FromGguf(model.File)!.Render([new("system", "You are terse."), new("user", "hello world")], addAssistant: true);
        int[] prompt = model.Tokenizer.Encode(text, addSpecial: true, parseSpecial: true);
        (string expected, int generated, bool eog) = GreedyReference(model, prompt, 10);

        Assert.Equal(expected, completion.Content[0].Text);
        Assert.Equal(eog ? ChatFinishReason.Stop : ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(prompt.Length, completion.Usage.InputTokenCount);
        Assert.Equal(generated, completion.Usage.OutputTokenCount);
        Assert.Equal(prompt.Length + generated, completion.Usage.TotalTokenCount);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
    }

    [Fact]
    public async Task StreamingGivesTheSameTextAsOneAnswer()
    {
        ChatClient chat = server.Chat();
        List<ChatMessage> messages = [new UserChatMessage("stream me a story")];
        string whole = (await chat.CompleteChatAsync(messages, Greedy(12))).Value.Content[0].Text;

        var streamed = new StringBuilder();
        ChatFinishReason? reason = null;
        await foreach (StreamingChatCompletionUpdate update in chat.CompleteChatStreamingAsync(messages, Greedy(12)))
        {
            foreach (ChatMessageContentPart part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
            reason ??= update.FinishReason;
        }
        Assert.Equal(whole, streamed.ToString());
        Assert.NotNull(reason);
    }

    [Fact]
    public async Task StopStringEndsTheAnswerBeforeIt()
    {
        ChatClient chat = server.Chat();
        List<ChatMessage> messages = [new UserChatMessage("count for me")];
        string whole = (await chat.CompleteChatAsync(messages, Greedy(40))).Value.Content[0].Text;
        Assert.True(whole.Length >= 3, $"answer too short to cut: '{whole}'");
        string stop = whole.Substring(whole.Length / 2, 1);   // the random model writes few whole characters
        var options = Greedy(40);
        options.StopSequences.Add(stop);

        ChatCompletion cut = (await chat.CompleteChatAsync(messages, options)).Value;
        Assert.Equal(whole[..whole.IndexOf(stop, StringComparison.Ordinal)], cut.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, cut.FinishReason);
    }

    [Fact]
    public async Task SameSeedSameSample()
    {
        string Body(int seed) => $$"""{"messages":[{"role":"user","content":"pick words"}],"temperature":1.0,"top_p":0.9,"seed":{{seed}},"max_tokens":12}""";
        (int s1, JsonElement a) = await server.PostAsync("/v1/chat/completions", Body(42));
        (int s2, JsonElement b) = await server.PostAsync("/v1/chat/completions", Body(42));
        Assert.Equal(200, s1);
        Assert.Equal(200, s2);
        Assert.Equal(Content(a), Content(b));
    }

    [Fact]
    public async Task RawStreamIsOpenAiServerSentEventsWithUsage()
    {
        const string body = """{"model":null,"messages":[{"role":"user","content":[{"type":"text","text":"parts "},{"type":"text","text":"work"}]}],"temperature":0,"max_tokens":6,"stream":true,"stream_options":{"include_usage":true}}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using HttpResponseMessage response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        string[] events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        JsonElement[] chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement.Clone()).ToArray();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        JsonElement usage = chunks[^1].GetProperty("usage");
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        int completionTokens = usage.GetProperty("completion_tokens").GetInt32();
        Assert.InRange(completionTokens, 1, 6);
        string finish = chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString()!;
        Assert.Equal(completionTokens == 6 ? "length" : "stop", finish);
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
    }

    private static string Content(JsonElement response) => response.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;

    private string ModelPath() => server.ModelPath;

    /// <summary>Greedy decoding with the engine directly, prefilling in the server's chunks; stops at an end-of-generation token.</summary>
    internal static (string Text, int Generated, bool Eog) GreedyReference(Model model, int[] prompt, int maxTokens, int chunk = 8)
    {
        var session = new Session(model, new SessionOptions { ContextSize = ServerFixture.ContextSize });
        ReadOnlySpan<float> logits = default;
        for (int i = 0; i < prompt.Length; i += chunk)
        {
            logits = session.Prefill(prompt.AsSpan(i, Math.Min(chunk, prompt.Length - i)));
        }
        var tokens = new List<int>();
        while (true)
        {
            int next = LongCtx.Generation.Greedy.Argmax(logits);
            if (model.Tokenizer.IsEndOfGeneration(next))
            {
                return (model.Tokenizer.Decode(tokens.ToArray()), tokens.Count + 1, true);
            }
            tokens.Add(next);
            if (tokens.Count == maxTokens)
            {
                return (model.Tokenizer.Decode(tokens.ToArray()), tokens.Count, false);
            }
            logits = session.Decode(next);
        }
    }
}
