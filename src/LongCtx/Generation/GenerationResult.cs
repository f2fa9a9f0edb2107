namespace LongCtx.Generation;

/// <summary>What one <see cref="TextGenerator.Generate"/> call did, with the timings llama.cpp prints after a run.</summary>
/// <param name="PromptTokens">Tokens in the prompt.</param>
/// <param name="PrefilledTokens">Prompt tokens actually evaluated (fewer than <paramref name="PromptTokens"/> when the session already held a prefix).</param>
/// <param name="PrefillTime">Time spent evaluating them.</param>
/// <param name="GeneratedTokens">Tokens sampled, the one that stopped generation included.</param>
/// <param name="DecodedTokens">Generated tokens evaluated one by one (the last sampled one is not: nothing needs its logits).</param>
/// <param name="DecodeTime">Time from the end of the prefill to the end of generation (sampling included).</param>
/// <param name="Reason">Why generation ended.</param>
/// <param name="StopString">The stop string that ended it, or null.</param>
public readonly record struct GenerationResult(
    int PromptTokens, int PrefilledTokens, TimeSpan PrefillTime,
    int GeneratedTokens, int DecodedTokens, TimeSpan DecodeTime,
    StopReason Reason, string? StopString)
{
    /// <summary>Prefill speed in tokens per second (0 when nothing was timed).</summary>
    public double PrefillTokensPerSecond => Rate(PrefilledTokens, PrefillTime);

    /// <summary>Decode speed in tokens per second, over the generated tokens (as llama.cpp's "eval time").</summary>
    public double DecodeTokensPerSecond => Rate(GeneratedTokens, DecodeTime);

    private static double Rate(int tokens, TimeSpan time) => time.TotalSeconds > 0 ? tokens / time.TotalSeconds : 0;
}
