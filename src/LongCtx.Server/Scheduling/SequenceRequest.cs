using System.Threading.Channels;
using LongCtx.Generation.Sampling;

namespace LongCtx.Server.Scheduling;

/// <summary>
/// What a handler hands to the scheduler: a tokenized prompt and how to generate from it. The
/// scheduler answers on <see cref="Events"/>; the handler reads them. Nothing here touches the model.
/// </summary>
internal sealed class SequenceRequest(int[] prompt, SamplingOptions sampling, string[] stop, int maxTokens, string? kvSpec, CancellationToken cancel)
{
    public int[] Prompt { get; } = prompt;
    public SamplingOptions Sampling { get; } = sampling;
    public string[] Stop { get; } = stop;
    public int MaxTokens { get; } = maxTokens;
    /// <summary>The request's KV method spec, already validated. Not applied yet: the KV registry arrives with the kv branch.</summary>
    public string? KvSpec { get; } = kvSpec;
    /// <summary>Cancelled when the client disconnects or the request times out: the sequence ends and its session is freed.</summary>
    public CancellationToken Cancel { get; } = cancel;
    public Channel<SequenceEvent> Events { get; } = Channel.CreateUnbounded<SequenceEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
}

/// <summary>One message from the scheduler to a handler.</summary>
internal abstract record SequenceEvent;

/// <summary>Text that may be shown now.</summary>
internal sealed record TextEvent(string Text) : SequenceEvent;

/// <summary>The sequence ended normally; <paramref name="FinishReason"/> is OpenAI's ("stop" or "length").</summary>
internal sealed record FinishedEvent(string FinishReason, int PromptTokens, int CompletionTokens) : SequenceEvent;

/// <summary>The sequence failed inside the engine.</summary>
internal sealed record FailedEvent(string Message) : SequenceEvent;
