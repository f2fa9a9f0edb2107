namespace LongCtx.Eval.Running;

/// <summary>What an engine returns for one prompt.</summary>
public sealed record EngineResult
{
    /// <summary>The generated text (the answer after the answer prefix).</summary>
    public required string Text { get; init; }
    /// <summary>Tokens of the prompt as evaluated (specials and template included).</summary>
    public required int PromptTokens { get; init; }
    /// <summary>Tokens generated.</summary>
    public required int GeneratedTokens { get; init; }
    /// <summary>Prompt tokens per second, the KV method's own work after prefill included.</summary>
    public required double PrefillTokensPerSecond { get; init; }
    /// <summary>Generated tokens per second over the decode steps.</summary>
    public required double DecodeTokensPerSecond { get; init; }
    /// <summary>Bytes the KV cache holds at the end of generation.</summary>
    public required long KvBytes { get; init; }
}

/// <summary>
/// A model behind the harness: counts tokens with its own tokenizer (to size samples) and answers a
/// prompt under a KV method given by its spec string (<c>full</c> = the whole cache).
/// </summary>
public interface IEvalEngine : ITokenCounter
{
    /// <summary>Name of the model, as results record it.</summary>
    string ModelName { get; }

    /// <summary>Tokens the engine adds around a sample's text (BOS, chat template), which samples leave room for.</summary>
    int PromptOverhead { get; }

    /// <summary>Checks a method spec before a run starts.</summary>
    /// <exception cref="ArgumentException">The engine does not know the method or its parameters are invalid.</exception>
    void ValidateMethod(string method);

    /// <summary>Greedy answer to <paramref name="input"/> followed by <paramref name="answerPrefix"/>.</summary>
    EngineResult Generate(string input, string answerPrefix, string method, int maxNewTokens);
}
