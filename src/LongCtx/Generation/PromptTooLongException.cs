namespace LongCtx.Generation;

/// <summary>A prompt that does not fit the session's context (with at least one position left to generate).</summary>
public sealed class PromptTooLongException : ArgumentException
{
    /// <summary>Creates the error.</summary>
    public PromptTooLongException(int promptTokens, int contextSize)
        : base($"the prompt has {promptTokens} tokens but the context holds {contextSize} (at most {contextSize - 1} prompt tokens, leaving one to generate): shorten the prompt or raise the context size (-c)")
    {
        PromptTokens = promptTokens;
        ContextSize = contextSize;
    }

    /// <summary>Tokens in the prompt.</summary>
    public int PromptTokens { get; }

    /// <summary>Positions in the session's context.</summary>
    public int ContextSize { get; }
}
