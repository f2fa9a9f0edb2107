using LongCtx.Models;
using LongCtx.Server.Scheduling;
using LongCtx.Tokenization;

namespace LongCtx.Server;

/// <summary>What the handlers share: read-only model facts, the queue into the scheduler, the metrics.</summary>
internal sealed class ServerState(ServerOptions options, Model model, ChatTemplate template, string modelId, int contextSize, Scheduler scheduler, ServerMetrics metrics)
{
    public ServerOptions Options { get; } = options;
    /// <summary>Handlers use only its tokenizer (thread-safe) and config; the forward pass belongs to the scheduler.</summary>
    public Model Model { get; } = model;
    public Tokenizer Tokenizer => Model.Tokenizer;
    public ChatTemplate Template { get; } = template;
    public string ModelId { get; } = modelId;
    public int ContextSize { get; } = contextSize;
    public long Created { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    public Scheduler Scheduler { get; } = scheduler;
    public ServerMetrics Metrics { get; } = metrics;

    /// <summary>Longest prompt accepted: the configured limit, and always one position short of the context, for the answer.</summary>
    public int MaxPromptTokens => Options.MaxPromptTokens > 0 ? Math.Min(Options.MaxPromptTokens, ContextSize - 1) : ContextSize - 1;
}
