using LongCtx.Generation;
using LongCtx.Generation.Sampling;
using LongCtx.KvCache;
using LongCtx.Models;

namespace LongCtx.Eval.Running;

/// <summary>The tokenizer calls the engine needs; same shape as the engine's own tokenizer.</summary>
public interface IEvalTokenizer
{
    /// <summary>Token ids of <paramref name="text"/>.</summary>
    /// <param name="text">Text.</param>
    /// <param name="addSpecial">Add BOS/EOS as the model's metadata asks.</param>
    /// <param name="parseSpecial">Recognize special-token text (chat markup) as special tokens.</param>
    int[] Encode(string text, bool addSpecial, bool parseSpecial);

    /// <summary>Text of a token sequence.</summary>
    string Decode(ReadOnlySpan<int> tokens);

    /// <summary>True for tokens that end generation (EOS, EOT).</summary>
    bool IsEndOfGeneration(int token);
}

/// <summary>Turns a sample's input and answer prefix into the prompt text (a chat template, or plain concatenation).</summary>
public delegate string PromptFormat(string input, string answerPrefix);

/// <summary>Settings of a <see cref="SessionEngine"/>.</summary>
public sealed record SessionEngineOptions
{
    /// <summary>The prompt layout; default: input then answer prefix, as RULER's base-model template.</summary>
    public PromptFormat Format { get; init; } = static (input, prefix) => input + prefix;
    /// <summary>
    /// Turns a method spec (<c>snapkv:ratio=0.5</c>, <c>quest:budget=256</c>) into the press applied
    /// after prefill and the selector run at each decode step. Default: <see cref="KvMethodRegistry.Parse"/>,
    /// the registry <c>longctx generate --kv</c> uses. Called once per answer, because selectors keep
    /// per-session state. Throws <see cref="ArgumentException"/> (a <see cref="KvSpecException"/>)
    /// naming the spec when it is invalid. <c>full</c> never reaches it.
    /// </summary>
    public Func<string, KvMethod> Methods { get; init; } = KvMethodRegistry.Parse;
    /// <summary>Session settings (cache type, batch size); the context size is set per prompt.</summary>
    public SessionOptions Session { get; init; } = new();
}

/// <summary>
/// <see cref="IEvalEngine"/> over LongCtx itself: encode, then run the generation loop
/// <c>longctx generate --kv</c> runs (<see cref="TextGenerator"/>, greedy) on a fresh session sized to
/// prompt + answer, with the method's selector on the session and its press applied after prefill,
/// to EOS or the token limit; measure speed and the KV bytes held at the end.
/// </summary>
public sealed class SessionEngine : IEvalEngine
{
    /// <summary>The spec of the unmodified cache.</summary>
    public const string FullCache = "full";

    private readonly Model _model;
    private readonly IEvalTokenizer _tokenizer;
    private readonly SessionEngineOptions _options;
    private readonly int[] _endOfGeneration;

    /// <summary>Creates an engine over a loaded model and its tokenizer.</summary>
    public SessionEngine(Model model, IEvalTokenizer tokenizer, string modelName, SessionEngineOptions? options = null)
    {
        _model = model;
        _tokenizer = tokenizer;
        _options = options ?? new SessionEngineOptions();
        ModelName = modelName;
        PromptOverhead = tokenizer.Encode(_options.Format("", ""), addSpecial: true, parseSpecial: true).Length;
        _endOfGeneration = Enumerable.Range(0, model.Config.VocabSize).Where(tokenizer.IsEndOfGeneration).ToArray();
    }

    /// <inheritdoc/>
    public string ModelName { get; }
    /// <inheritdoc/>
    public int PromptOverhead { get; }

    /// <inheritdoc/>
    public int Count(string text) => _tokenizer.Encode(text, addSpecial: false, parseSpecial: false).Length;

    /// <inheritdoc/>
    public void ValidateMethod(string method) => Resolve(method);

    /// <inheritdoc/>
    public EngineResult Generate(string input, string answerPrefix, string method, int maxNewTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNewTokens, 1);
        KvMethod kv = Resolve(method);
        int[] prompt = _tokenizer.Encode(_options.Format(input, answerPrefix), addSpecial: true, parseSpecial: true);
        var session = new Session(_model, _options.Session with { ContextSize = prompt.Length + maxNewTokens }) { Selector = kv.Selector };
        var greedy = new SamplerChain(_model.Config.VocabSize, [new GreedySampler()]);
        var generator = new TextGenerator(session, tokenizer: null, greedy) { Press = kv.Press };

        var generated = new List<int>(maxNewTokens);
        GenerationResult run = generator.Generate(prompt, new StopCondition(stopTokens: _endOfGeneration, maxTokens: maxNewTokens), null, generated);
        if (run.Reason == StopReason.EndOfGeneration)
        {
            generated.RemoveAt(generated.Count - 1); // the answer is the text before EOS
        }

        return new EngineResult
        {
            Text = _tokenizer.Decode(generated.ToArray()),
            PromptTokens = prompt.Length,
            GeneratedTokens = generated.Count,
            // Prefill time includes the press (observation during prefill, compression after it).
            PrefillTokensPerSecond = run.PrefillTokensPerSecond,
            // Over the decode steps only: an answer that ends at its first token has no decode speed.
            DecodeTokensPerSecond = run.DecodeTime.TotalSeconds > 0 ? run.DecodedTokens / run.DecodeTime.TotalSeconds : 0,
            KvBytes = session.KvCacheBytes,
        };
    }

    private KvMethod Resolve(string method) =>
        KvMethodRegistry.IsNone(method) ? new KvMethod(method, null, null) : _options.Methods(method);
}
