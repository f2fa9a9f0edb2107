using System.Globalization;
using LongCtx.Generation;

namespace LongCtx.Cli;

/// <summary>The timings llama.cpp prints after a run (load, prompt eval, eval) and the stop reason, on stderr.</summary>
internal static class RunStats
{
    public static void Print(TimeSpan? load, GenerationResult r, long kvBytes)
    {
        var line = new System.Text.StringBuilder();
        if (load is TimeSpan l)
        {
            line.Append(CultureInfo.InvariantCulture, $"load {l.TotalMilliseconds:F0} ms | ");
        }
        line.Append(CultureInfo.InvariantCulture, $"prompt {r.PromptTokens} tokens");
        if (r.PrefilledTokens != r.PromptTokens)
        {
            line.Append(CultureInfo.InvariantCulture, $" ({r.PromptTokens - r.PrefilledTokens} reused)");
        }
        line.Append(CultureInfo.InvariantCulture, $", {r.PrefillTime.TotalMilliseconds:F0} ms, {r.PrefillTokensPerSecond:F1} t/s | ");
        line.Append(CultureInfo.InvariantCulture, $"generated {r.GeneratedTokens} tokens, {r.DecodeTime.TotalMilliseconds:F0} ms, {r.DecodeTokensPerSecond:F1} t/s | ");
        line.Append(CultureInfo.InvariantCulture, $"KV cache {kvBytes / (1024.0 * 1024.0):F1} MiB | stop: {Describe(r)}");
        // Plain stderr, unwrapped, so that stdout stays the generated text alone.
        Console.Error.WriteLine(line.ToString());
    }

    public static string Describe(GenerationResult r) => r.Reason switch
    {
        StopReason.EndOfGeneration => "end of generation token",
        StopReason.StopString => $"stop string \"{r.StopString}\"",
        StopReason.MaxTokens => "max tokens (-n)",
        StopReason.ContextFull => "context full (-c)",
        _ => r.Reason.ToString(),
    };
}
