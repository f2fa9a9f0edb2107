using System.Text;
using System.Text.Json;
using LongCtx.Generation.Sampling;
using LongCtx.KvCache;
using Microsoft.Extensions.AI;
using EngineMessage = LongCtx.Tokenization.ChatMessage;

namespace LongCtx.Extensions.AI;

/// <summary>
/// One call's messages and <see cref="ChatOptions"/>, checked and turned into what the engine takes:
/// template messages, sampling options, stop strings, a token budget and a KV spec. Everything is
/// validated here, before the call waits for the client's session, so bad input fails at once.
/// </summary>
internal sealed record ChatRequest(IReadOnlyList<EngineMessage> Messages, SamplingOptions Sampling, IReadOnlyList<string> StopSequences, int MaxTokens, string Kv)
{
    /// <summary>The key of the KV method in <see cref="ChatOptions.AdditionalProperties"/>.</summary>
    public const string KvProperty = "kv";

    private static readonly string[] Roles = ["system", "user", "assistant"];

    /// <exception cref="ArgumentException">No messages, an unsupported role, a wrong model id, or an option out of range (named).</exception>
    /// <exception cref="NotSupportedException">Tools, a JSON response format, or non-text content.</exception>
    public static ChatRequest Create(IEnumerable<ChatMessage> messages, ChatOptions? options, string modelId, LongCtxChatClientOptions defaults)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var converted = new List<EngineMessage>();
        if (!string.IsNullOrEmpty(options?.Instructions))
        {
            converted.Add(new EngineMessage("system", options.Instructions));
        }
        int index = 0;
        foreach (ChatMessage message in messages)
        {
            converted.Add(Convert(message, index++));
        }
        if (index == 0)
        {
            throw new ArgumentException("the chat has no messages: give at least one (e.g. a user message)", nameof(messages));
        }

        if (options?.ModelId is { } requested && requested != modelId)
        {
            throw new ArgumentException($"ChatOptions.ModelId '{requested}' is not the model of this client ('{modelId}')", nameof(options));
        }
        if (options?.Tools is { Count: > 0 })
        {
            throw new NotSupportedException("ChatOptions.Tools: LongCtxChatClient does not call tools");
        }
        if (options?.ResponseFormat is ChatResponseFormatJson)
        {
            throw new NotSupportedException("ChatOptions.ResponseFormat: LongCtxChatClient has no constrained (JSON) decoding; leave it null or Text");
        }

        SamplingOptions sampling = defaults.Sampling with
        {
            Temperature = options?.Temperature ?? defaults.Sampling.Temperature,
            TopP = options?.TopP ?? defaults.Sampling.TopP,
            TopK = options?.TopK ?? defaults.Sampling.TopK,
            FrequencyPenalty = options?.FrequencyPenalty ?? defaults.Sampling.FrequencyPenalty,
            PresencePenalty = options?.PresencePenalty ?? defaults.Sampling.PresencePenalty,
            Seed = options?.Seed is { } seed ? Seed(seed) : defaults.Sampling.Seed,
        };
        Validate(sampling);

        int maxTokens = options?.MaxOutputTokens ?? defaults.MaxOutputTokens ?? int.MaxValue;
        if (maxTokens < 1)
        {
            throw new ArgumentOutOfRangeException("MaxOutputTokens", maxTokens, "MaxOutputTokens must be at least 1.");
        }
        string[] stops = options?.StopSequences?.ToArray() ?? [];
        foreach (string s in stops)
        {
            if (string.IsNullOrEmpty(s))
            {
                throw new ArgumentException("ChatOptions.StopSequences holds a null or empty string", nameof(options));
            }
        }
        return new ChatRequest(converted, sampling, stops, maxTokens, KvSpecOf(options, defaults.Kv));
    }

    private static EngineMessage Convert(ChatMessage message, int index)
    {
        if (message is null)
        {
            throw new ArgumentException($"message {index} is null", "messages");
        }
        string role = message.Role.Value;
        if (Array.IndexOf(Roles, role) < 0)
        {
            throw new ArgumentException($"message {index} has the role '{role}'; LongCtxChatClient takes {string.Join(", ", Roles)} (no tools)", "messages");
        }
        var text = new StringBuilder();
        foreach (AIContent content in message.Contents)
        {
            switch (content)
            {
                case TextContent t:
                    text.Append(t.Text);
                    break;
                case TextReasoningContent or UsageContent:
                    break;   // an earlier answer's reasoning and usage are not part of the prompt
                default:
                    throw new NotSupportedException($"message {index} ({role}) holds {content.GetType().Name}; LongCtxChatClient takes text only");
            }
        }
        return new EngineMessage(role, text.ToString());
    }

    private static uint Seed(long seed) =>
        seed is >= 0 and <= uint.MaxValue ? (uint)seed
            : throw new ArgumentOutOfRangeException("Seed", seed, $"Seed must be in [0, {uint.MaxValue}].");

    private static void Validate(SamplingOptions sampling)
    {
        try
        {
            sampling.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            // Name the ChatOptions property (Temperature, TopP, ...), which is also SamplingOptions' name.
            throw new ArgumentOutOfRangeException(e.ParamName, e.ActualValue, $"ChatOptions.{e.ParamName}: " + e.Message.Split(" (Parameter")[0]);
        }
    }

    /// <summary>The call's KV spec (AdditionalProperties["kv"], a string), else the client's default; "full" for none. Parsed once here to fail early.</summary>
    /// <exception cref="KvSpecException">The spec is not valid.</exception>
    private static string KvSpecOf(ChatOptions? options, string? fallback)
    {
        string? spec = fallback;
        if (options?.AdditionalProperties is { } properties && properties.TryGetValue(KvProperty, out object? value) && value != null)
        {
            spec = value switch
            {
                string s => s,
                JsonElement { ValueKind: JsonValueKind.String } json => json.GetString(),
                _ => throw new ArgumentException($"ChatOptions.AdditionalProperties[\"{KvProperty}\"] must be a string KV spec such as \"snapkv:ratio=0.5\", not {value.GetType().Name}", nameof(options)),
            };
        }
        if (string.IsNullOrWhiteSpace(spec) || KvMethodRegistry.IsNone(spec))
        {
            return "full";
        }
        KvMethodRegistry.Parse(spec);
        return spec.Trim();
    }
}
