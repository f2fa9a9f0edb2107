namespace LongCtx.Generation;

/// <summary>Why generation ended.</summary>
public enum StopReason
{
    /// <summary>Still going.</summary>
    None,

    /// <summary>The model produced an end-of-generation token (EOS, EOT, ...).</summary>
    EndOfGeneration,

    /// <summary>The text reached one of the stop strings.</summary>
    StopString,

    /// <summary>The token budget is spent.</summary>
    MaxTokens,

    /// <summary>The session's context is full: no position is left for another token.</summary>
    ContextFull,
}
