using System.Threading.Channels;
using LongCtx.Generation.Sampling;
using LongCtx.KvCache;

namespace LongCtx.Server.Scheduling;

/// <summary>
/// What a handler hands to the scheduler: a tokenized prompt and how to generate from it. The
/// scheduler answers on <see cref="Events"/>; the handler reads them. Nothing here touches the model.
/// </summary>
internal sealed class SequenceRequest(int[] prompt, SamplingOptions sampling, string[] stop, int maxTokens, KvMethod? kv, CancellationToken cancel)
{
    public int[] Prompt { get; } = prompt;
    public SamplingOptions Sampling { get; } = sampling;
    public string[] Stop { get; } = stop;
    public int MaxTokens { get; } = maxTokens;
    /// <summary>
    /// The request's KV method (parsed from its <c>"kv"</c> field for this request alone: selectors keep
    /// per-session state), or null. Its press runs after the prompt's prefill, its selector at every decode step.
    /// </summary>
    public KvMethod? Kv { get; } = kv;
    /// <summary>Cancelled when the client disconnects or the request times out: the sequence ends and its session is freed.</summary>
    public CancellationToken Cancel { get; } = cancel;
    public Channel<SequenceEvent> Events { get; } = Channel.CreateUnbounded<SequenceEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
}

/// <summary>One message from the scheduler to a handler.</summary>
internal abstract record SequenceEvent;

/// <summary>Text that may be shown now.</summary>
internal sealed record TextEvent(string Text) : SequenceEvent;

/// <summary>The sequence ended normally; <paramref name="FinishReason"/> is OpenAI's ("stop" or "length").</summary>
/// <param name="FinishReason">"stop" or "length".</param>
/// <param name="PromptTokens">Tokens of the prompt.</param>
/// <param name="CompletionTokens">Tokens generated.</param>
/// <param name="CachedTokens">Prompt tokens whose KV came from the prefix cache; the rest were prefilled.</param>
/// <param name="KvCacheBytes">Bytes the sequence's KV cache held at the end (after any press).</param>
/// <param name="KvCacheEntries">Entries it held, summed over layers and KV heads.</param>
internal sealed record FinishedEvent(string FinishReason, int PromptTokens, int CompletionTokens, int CachedTokens, long KvCacheBytes, long KvCacheEntries) : SequenceEvent;

/// <summary>The sequence failed inside the engine.</summary>
internal sealed record FailedEvent(string Message) : SequenceEvent;
