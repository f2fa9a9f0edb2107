using LongCtx.Eval.Scoring;

namespace LongCtx.Eval.Tasks;

/// <summary>
/// One generated test case. The model sees <see cref="Input"/> (as the user turn) followed by
/// <see cref="AnswerPrefix"/> (the start of its own answer), as RULER builds its prompts.
/// </summary>
public sealed record EvalSample
{
    /// <summary>Task name (e.g. <c>niah_single_1</c>).</summary>
    public required string Task { get; init; }
    /// <summary>Context length the sample was sized for, generated tokens included.</summary>
    public required int Length { get; init; }
    /// <summary>Index of the sample within its task and length.</summary>
    public required int Index { get; init; }
    /// <summary>Seed the sample was generated from; the same seed gives the same sample.</summary>
    public required ulong Seed { get; init; }
    /// <summary>The instruction, context and question.</summary>
    public required string Input { get; init; }
    /// <summary>Text the answer starts with (may be empty).</summary>
    public required string AnswerPrefix { get; init; }
    /// <summary>Expected answers, scored by <see cref="Metric"/>.</summary>
    public required IReadOnlyList<string> Answers { get; init; }
    /// <summary>Scoring rule.</summary>
    public required Metric Metric { get; init; }
    /// <summary>Tokens to generate (RULER's tokens_to_generate).</summary>
    public required int MaxNewTokens { get; init; }
    /// <summary>Tokens of <see cref="Input"/> + <see cref="AnswerPrefix"/> under the counter the sample was sized with.</summary>
    public required int PromptTokens { get; init; }
    /// <summary>The token budget the prompt was fitted to (≤ it, and within 1% of it when the haystack is fine-grained enough).</summary>
    public required int TargetTokens { get; init; }
    /// <summary>Depth of the needle in percent, for depth-controlled tasks (needle grid); otherwise null.</summary>
    public double? Depth { get; init; }
    /// <summary>Candidate labels for <see cref="Metric.BabilongMatch"/>; empty for other metrics.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];
    /// <summary>The question asked (for <see cref="Metric.BabilongMatch"/>, whose labels mentioned in it never count).</summary>
    public string Question { get; init; } = "";
}

/// <summary>What a task needs to generate one sample.</summary>
public sealed record SampleRequest
{
    /// <summary>Context length in tokens (the sample plus the tokens to generate fit in it).</summary>
    public required int Length { get; init; }
    /// <summary>Sample index (recorded; the seed already depends on it).</summary>
    public int Index { get; init; }
    /// <summary>Seed of this sample.</summary>
    public required ulong Seed { get; init; }
    /// <summary>The model's token counter.</summary>
    public required ITokenCounter Counter { get; init; }
    /// <summary>Tokens the engine adds around the prompt (BOS, chat markup), subtracted from the budget.</summary>
    public int PromptOverhead { get; init; }
}

/// <summary>A generator of test cases of one kind.</summary>
public interface IEvalTask
{
    /// <summary>Task name as it appears in results and reports.</summary>
    string Name { get; }
    /// <summary>Tokens to generate for an answer.</summary>
    int MaxNewTokens { get; }
    /// <summary>The scoring rule of its samples.</summary>
    Metric Metric { get; }
    /// <summary>Needle depth in percent for depth-controlled tasks; null otherwise.</summary>
    double? Depth { get; }
    /// <summary>Generates one sample: deterministic in <see cref="SampleRequest.Seed"/>, sized to the request's length.</summary>
    /// <exception cref="SampleSizeException">The length is too short for the task's fixed parts.</exception>
    EvalSample Generate(SampleRequest request);
}

/// <summary>A sample cannot be fitted to the requested length.</summary>
public sealed class SampleSizeException(string message) : Exception(message);
