using System.Text;
using LongCtx.Extensions.AI;
using LongCtx.Generation;
using LongCtx.Generation.Sampling;
using LongCtx.KvCache;
using LongCtx.Tests.Cli;
using LongCtx.Tokenization;
using Microsoft.Extensions.AI;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace LongCtx.Tests.Extensions;

/// <summary>
/// The Microsoft.Extensions.AI client on the tiny random-weight qwen2 model (chatml): streaming
/// equals non-streaming, both equal the shared loop on the templated prompt, and options, usage,
/// finish reasons, stop sequences, cancellation, prefix reuse and bad input behave as documented.
/// </summary>
public sealed class LongCtxChatClientTests(CliModelFixture model) : IClassFixture<CliModelFixture>
{
    private const int Context = 256;
    private static readonly ChatOptions Greedy = new() { Temperature = 0f, MaxOutputTokens = 12 };
    private static readonly AIChatMessage[] Chat = [new(ChatRole.System, "Be brief."), new(ChatRole.User, "Say hello world")];

    private LongCtxChatClient Client(string? kv = null) =>
        LongCtxChatClient.Create(model.Model, new LongCtxChatClientOptions { ContextSize = Context, ChatTemplate = ChatTemplate.FromName("chatml"), Kv = kv });

    private static ChatOptions With(Action<ChatOptions> set)
    {
        ChatOptions o = Greedy.Clone();
        set(o);
        return o;
    }

    /// <summary>What <see cref="TextGenerator"/> gives on the chatml rendering of <paramref name="messages"/> with a fresh session.</summary>
    private (string Text, GenerationResult Result) Direct(IEnumerable<(string Role, string Content)> messages, int maxTokens, IKvPress? press = null, string[]? stops = null)
    {
        Tokenizer tokenizer = model.Model.Tokenizer;
        string rendered = ChatTemplate.FromName("chatml").Render(messages.Select(m => new LongCtx.Tokenization.ChatMessage(m.Role, m.Content)).ToList(), addAssistant: true);
        int[] prompt = tokenizer.Encode(rendered, addSpecial: true, parseSpecial: true);
        var generator = new TextGenerator(new Session(model.Model, new SessionOptions { ContextSize = Context }), tokenizer,
            new SamplerChain(SamplingOptions.Greedy, model.Model.Config.VocabSize)) { Press = press };
        var text = new StringBuilder();
        GenerationResult result = generator.Generate(prompt, new StopCondition(stops, tokenizer.EndOfGenerationTokens, maxTokens), piece => text.Append(piece));
        return (text.ToString(), result);
    }

    private static readonly (string, string)[] ChatPairs = [("system", "Be brief."), ("user", "Say hello world")];

    [Fact]
    public async Task Greedy_answer_equals_the_shared_loop_and_the_concatenated_stream()
    {
        (string expected, GenerationResult direct) = Direct(ChatPairs, 12);
        using LongCtxChatClient client = Client();
        ChatResponse response = await client.GetResponseAsync(Chat, Greedy);
        Assert.Equal(expected, response.Text);
        Assert.NotEmpty(expected);
        Assert.Equal(ChatRole.Assistant, response.Messages.Single().Role);
        Assert.Equal(client.ModelId, response.ModelId);
        Assert.Equal(direct.PromptTokens, response.Usage!.InputTokenCount);
        Assert.Equal(direct.GeneratedTokens, response.Usage.OutputTokenCount);

        var updates = new List<ChatResponseUpdate>();
        await foreach (ChatResponseUpdate u in Client().GetStreamingResponseAsync(Chat, Greedy))
        {
            updates.Add(u);
        }
        Assert.True(updates.Count(u => u.Text.Length > 0) > 1, "the answer streams in several pieces");
        Assert.Equal(expected, string.Concat(updates.Select(u => u.Text)));
        ChatResponse streamed = updates.ToChatResponse();
        Assert.Equal(expected, streamed.Text);
        Assert.Equal(response.FinishReason, streamed.FinishReason);
        Assert.Equal(response.Usage.InputTokenCount, streamed.Usage!.InputTokenCount);
        Assert.Equal(response.Usage.OutputTokenCount, streamed.Usage.OutputTokenCount);
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());
    }

    [Fact]
    public async Task MaxOutputTokens_ends_with_Length_and_counts_the_tokens()
    {
        using LongCtxChatClient client = Client();
        ChatResponse response = await client.GetResponseAsync(Chat, With(o => o.MaxOutputTokens = 5));
        (string expected, GenerationResult direct) = Direct(ChatPairs, 5);
        Assert.Equal(StopReason.MaxTokens, direct.Reason);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(expected, response.Text);
        Assert.Equal(5, response.Usage!.OutputTokenCount);
        Assert.Equal(direct.PromptTokens, response.Usage.InputTokenCount);
        Assert.Equal(direct.PromptTokens + 5, response.Usage.TotalTokenCount);
        Assert.Equal(0, response.Usage.CachedInputTokenCount);
        Assert.IsType<GenerationResult>(response.RawRepresentation);
    }

    [Fact]
    public async Task A_stop_sequence_ends_the_answer_before_it_with_Stop()
    {
        using LongCtxChatClient client = Client();
        string full = (await client.GetResponseAsync(Chat, Greedy)).Text;
        Assert.True(full.Length >= 6, $"need a longer answer than '{full}'");
        string stop = full.Substring(3, 2);
        ChatResponse response = await client.GetResponseAsync(Chat, With(o => o.StopSequences = [stop]));
        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.True(response.Usage!.OutputTokenCount < 12);

        // Streaming never shows any part of it either.
        string streamed = string.Concat(await Collect(client.GetStreamingResponseAsync(Chat, With(o => o.StopSequences = [stop]))));
        Assert.Equal(response.Text, streamed);
    }

    [Fact]
    public async Task The_next_turn_reuses_the_held_conversation()
    {
        using LongCtxChatClient client = Client();
        ChatResponse first = await client.GetResponseAsync(Chat, With(o => o.MaxOutputTokens = 6));
        List<AIChatMessage> next = [.. Chat, .. first.Messages, new(ChatRole.User, "And again")];
        ChatResponse second = await client.GetResponseAsync(next, With(o => o.MaxOutputTokens = 6));
        // The session holds the first prompt and the answer but its last token (sampled, never evaluated).
        Assert.Equal(first.Usage!.InputTokenCount + 6 - 1, second.Usage!.CachedInputTokenCount);
        Assert.True(second.Usage.InputTokenCount > second.Usage.CachedInputTokenCount);

        // A conversation that does not extend it starts over, and answers as a fresh client.
        ChatResponse other = await client.GetResponseAsync([new(ChatRole.User, "Something else")], Greedy);
        Assert.Equal(0, other.Usage!.CachedInputTokenCount);
        Assert.Equal((await Client().GetResponseAsync([new(ChatRole.User, "Something else")], Greedy)).Text, other.Text);
    }

    [Fact]
    public async Task A_seed_repeats_a_sampled_answer_and_options_reach_the_sampler()
    {
        using LongCtxChatClient client = Client();
        ChatOptions sampled = With(o => { o.Temperature = 1.5f; o.TopK = 50; o.TopP = 0.99f; o.Seed = 42; });
        string a = (await client.GetResponseAsync(Chat, sampled)).Text;
        string b = (await client.GetResponseAsync(Chat, sampled)).Text;
        Assert.Equal(a, b);
        // Greedy after a sampled call on the same client is still the greedy answer.
        Assert.Equal(Direct(ChatPairs, 12).Text, (await client.GetResponseAsync(Chat, Greedy)).Text);
        // Penalties change the greedy answer's scores: accepted (and validated) without error.
        await client.GetResponseAsync(Chat, With(o => { o.FrequencyPenalty = 0.5f; o.PresencePenalty = 0.5f; }));
    }

    [Fact]
    public async Task A_kv_method_from_AdditionalProperties_is_the_press_of_the_shared_loop()
    {
        const string spec = "streamingllm:ratio=0.5,sinks=2";
        string expected = Direct(ChatPairs, 12, KvMethodRegistry.Parse(spec).Press).Text;
        using LongCtxChatClient client = Client();
        ChatResponse response = await client.GetResponseAsync(Chat, With(o => o.AdditionalProperties = new() { ["kv"] = spec }));
        Assert.Equal(expected, response.Text);
        // The client's default spec does the same; "full" goes back to the whole cache.
        Assert.Equal(expected, (await Client(kv: spec).GetResponseAsync(Chat, Greedy)).Text);
        Assert.Equal(Direct(ChatPairs, 12).Text, (await client.GetResponseAsync(Chat, With(o => o.AdditionalProperties = new() { ["kv"] = "full" }))).Text);
    }

    [Fact]
    public async Task Cancellation_stops_the_call_and_the_client_keeps_working()
    {
        using LongCtxChatClient client = Client();
        using (var cancelled = new CancellationTokenSource())
        {
            cancelled.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetResponseAsync(Chat, Greedy, cancelled.Token));
        }

        // Cancelled after the first piece: the stream ends with OperationCanceledException, early.
        using (var cts = new CancellationTokenSource())
        {
            int pieces = 0;
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                await foreach (ChatResponseUpdate u in client.GetStreamingResponseAsync(Chat, With(o => o.MaxOutputTokens = 200), cts.Token))
                {
                    pieces++;
                    cts.Cancel();
                }
            });
            Assert.Equal(1, pieces);
        }

        // Leaving a stream early cancels its generation and frees the session.
        await foreach (ChatResponseUpdate u in client.GetStreamingResponseAsync(Chat, With(o => o.MaxOutputTokens = 200)))
        {
            break;
        }
        Assert.Equal(Direct(ChatPairs, 12).Text, (await client.GetResponseAsync(Chat, Greedy)).Text);
    }

    [Fact]
    public async Task Calls_from_several_threads_are_serialized_and_give_the_same_answers()
    {
        using LongCtxChatClient client = Client();
        string expected = Direct(ChatPairs, 12).Text;
        Task<string>[] calls = Enumerable.Range(0, 6).Select(i => Task.Run(async () => i % 2 == 0
            ? (await client.GetResponseAsync(Chat, Greedy)).Text
            : string.Concat(await Collect(client.GetStreamingResponseAsync(Chat, Greedy))))).ToArray();
        foreach (string text in await Task.WhenAll(calls))
        {
            Assert.Equal(expected, text);
        }
    }

    [Fact]
    public async Task Bad_input_names_the_problem()
    {
        using LongCtxChatClient client = Client();
        Assert.Contains("no messages", (await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync([], Greedy))).Message);
        Assert.Contains("no messages", Assert.Throws<ArgumentException>(() => client.GetStreamingResponseAsync([], Greedy)).Message);
        Assert.Contains("'narrator'", (await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync([new(new ChatRole("narrator"), "x")], Greedy))).Message);
        Assert.Contains("'tool'", (await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync([new(ChatRole.Tool, "x")], Greedy))).Message);

        string longText = string.Concat(Enumerable.Repeat("abc def ", 200));
        PromptTooLongException tooLong = await Assert.ThrowsAsync<PromptTooLongException>(() => client.GetResponseAsync([new(ChatRole.User, longText)], Greedy));
        Assert.Equal(Context, tooLong.ContextSize);
        Assert.Throws<PromptTooLongException>(() => { _ = client.GetStreamingResponseAsync([new(ChatRole.User, longText)], Greedy).GetAsyncEnumerator().MoveNextAsync().AsTask().GetAwaiter().GetResult(); });

        Assert.Equal("Temperature", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.GetResponseAsync(Chat, With(o => o.Temperature = -1f)))).ParamName);
        Assert.Equal("TopP", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.GetResponseAsync(Chat, With(o => o.TopP = 0f)))).ParamName);
        Assert.Equal("MaxOutputTokens", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.GetResponseAsync(Chat, With(o => o.MaxOutputTokens = 0)))).ParamName);
        Assert.Equal("Seed", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.GetResponseAsync(Chat, With(o => o.Seed = -1)))).ParamName);
        Assert.Contains("StopSequences", (await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(Chat, With(o => o.StopSequences = [""])))).Message);
        Assert.Contains("'other.gguf'", (await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(Chat, With(o => o.ModelId = "other.gguf")))).Message);
        await Assert.ThrowsAsync<KvSpecException>(() => client.GetResponseAsync(Chat, With(o => o.AdditionalProperties = new() { ["kv"] = "nosuchpress:ratio=0.5" })));
        await Assert.ThrowsAsync<NotSupportedException>(() => client.GetResponseAsync([new(ChatRole.User, [new DataContent(new byte[] { 1 }, "image/png")])], Greedy));

        // None of that broke the client.
        Assert.Equal(Direct(ChatPairs, 12).Text, (await client.GetResponseAsync(Chat, With(o => o.ModelId = client.ModelId))).Text);
        Assert.Equal("LongCtx", client.GetService<ChatClientMetadata>()!.ProviderName);
    }

    [Fact]
    public async Task The_readme_example_runs()
    {
        // README.md, "Use from .NET", with the tiny model, a smaller context and the console replaced.
        using IChatClient client = LongCtxChatClient.Open(model.Path, new LongCtxChatClientOptions { ContextSize = Context });
        List<AIChatMessage> chat = [new(ChatRole.System, "Answer briefly."), new(ChatRole.User, "What is a KV cache?")];
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 8, StopSequences = ["\n\n"],
                                        AdditionalProperties = new() { ["kv"] = "snapkv:ratio=0.5" } };
        ChatResponse answer = await client.GetResponseAsync(chat, options);
        Assert.NotNull(answer.FinishReason);
        chat.AddMessages(answer);
        chat.Add(new(ChatRole.User, "And why compress it?"));
        var streamed = new StringBuilder();
        UsageDetails? usage = null;
        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(chat, options))
        {
            streamed.Append(update.Text);
            usage ??= update.Contents.OfType<UsageContent>().SingleOrDefault()?.Details;
        }
        Assert.NotNull(usage);
        Assert.True(usage.InputTokenCount > answer.Usage!.InputTokenCount);
    }

    private static async Task<List<string>> Collect(IAsyncEnumerable<ChatResponseUpdate> updates)
    {
        var texts = new List<string>();
        await foreach (ChatResponseUpdate u in updates)
        {
            texts.Add(u.Text);
        }
        return texts;
    }
}
