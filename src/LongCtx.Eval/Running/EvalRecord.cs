using System.Text.Json.Serialization;

namespace LongCtx.Eval.Running;

/// <summary>One scored answer: a line of the results JSONL.</summary>
public sealed record EvalRecord
{
    /// <summary>Suite the run belongs to (ruler, babilong, niah, quick).</summary>
    [JsonPropertyName("suite")] public required string Suite { get; init; }
    /// <summary>Model name.</summary>
    [JsonPropertyName("model")] public required string Model { get; init; }
    /// <summary>KV method spec (<c>full</c> for the whole cache).</summary>
    [JsonPropertyName("method")] public required string Method { get; init; }
    /// <summary>Task name.</summary>
    [JsonPropertyName("task")] public required string Task { get; init; }
    /// <summary>Context length in tokens.</summary>
    [JsonPropertyName("length")] public required int Length { get; init; }
    /// <summary>Sample index.</summary>
    [JsonPropertyName("sample")] public required int Sample { get; init; }
    /// <summary>The run's seed (the sample's own seed derives from it).</summary>
    [JsonPropertyName("seed")] public required ulong Seed { get; init; }
    /// <summary>Needle depth in percent for grid tasks, else null.</summary>
    [JsonPropertyName("depth")] public double? Depth { get; init; }
    /// <summary>Metric name (string_match_all, string_match_part, babilong_match).</summary>
    [JsonPropertyName("metric")] public required string Metric { get; init; }
    /// <summary>Score in [0, 1].</summary>
    [JsonPropertyName("score")] public required double Score { get; init; }
    /// <summary>Expected answers.</summary>
    [JsonPropertyName("answers")] public required IReadOnlyList<string> Answers { get; init; }
    /// <summary>The model's answer.</summary>
    [JsonPropertyName("prediction")] public required string Prediction { get; init; }
    /// <summary>Tokens of the evaluated prompt.</summary>
    [JsonPropertyName("prompt_tokens")] public required int PromptTokens { get; init; }
    /// <summary>Tokens generated.</summary>
    [JsonPropertyName("generated_tokens")] public required int GeneratedTokens { get; init; }
    /// <summary>Prefill speed in tokens per second (KV method included).</summary>
    [JsonPropertyName("prefill_tps")] public required double PrefillTokensPerSecond { get; init; }
    /// <summary>Decode speed in tokens per second.</summary>
    [JsonPropertyName("decode_tps")] public required double DecodeTokensPerSecond { get; init; }
    /// <summary>Bytes held by the KV cache at the end of the answer.</summary>
    [JsonPropertyName("kv_bytes")] public required long KvBytes { get; init; }

    /// <summary>Identity of the work item: a resumed run skips items whose key is already in the file.</summary>
    [JsonIgnore]
    public RecordKey Key => new(Model, Method, Task, Length, Sample, Seed);
}

/// <summary>Identity of one work item of a run.</summary>
public readonly record struct RecordKey(string Model, string Method, string Task, int Length, int Sample, ulong Seed);
