using System.Text;
using OpenAI.Chat;

namespace LongCtx.Tests.Server;

/// <summary>The scheduler: sequences interleaved (and queued past --parallel) give the texts they give alone.</summary>
[Collection("Server")]
public sealed class ConcurrencyTests(ServerFixture server)
{
    private const int Requests = 16;

    [Fact]
    public async Task ConcurrentStreamsAtTemperatureZeroEqualSequentialAnswers()
    {
        ChatClient chat = server.Chat();
        // Prompts of different lengths, so prefill chunks and decode steps of different sequences interleave.
        List<ChatMessage>[] prompts = Enumerable.Range(0, Requests)
            .Select(i => new List<ChatMessage> { new UserChatMessage($"request {i}: " + string.Concat(Enumerable.Repeat("hello world ", i % 5))) })
            .ToArray();
        var options = new ChatCompletionOptions { Temperature = 0f, MaxOutputTokenCount = 10 };

        async Task<string> Stream(List<ChatMessage> messages)
        {
            var text = new StringBuilder();
            await foreach (StreamingChatCompletionUpdate update in chat.CompleteChatStreamingAsync(messages, options))
            {
                foreach (ChatMessageContentPart part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }
            }
            return text.ToString();
        }

        var sequential = new List<string>();
        foreach (List<ChatMessage> messages in prompts)
        {
            sequential.Add(await Stream(messages));
        }
        string[] concurrent = await Task.WhenAll(prompts.Select(p => Task.Run(() => Stream(p))));

        Assert.Equal(sequential, concurrent);
        Assert.True(sequential.Distinct().Count() > 1, "the prompts should not all give the same text");
        await server.WaitIdleAsync();   // every session freed: no KV bytes left in use
        Assert.Equal(0, await server.MetricAsync("longctx_queue_length"));
    }
}
