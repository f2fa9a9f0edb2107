using System.Diagnostics;
using LongCtx.Generation;
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

/// <summary>
/// How a KV method plugs into a session: options before prefill (e.g. a per-step selector) and
/// work after prefill (e.g. a press that evicts entries). Either may be null.
/// </summary>
public sealed record KvMethodHooks(Func<SessionOptions, SessionOptions>? Configure, Action<Session>? AfterPrefill);

/// <summary>Settings of a <see cref="SessionEngine"/>.</summary>
public sealed record SessionEngineOptions
{
    /// <summary>The prompt layout; default: input then answer prefix, as RULER's base-model template.</summary>
    public PromptFormat Format { get; init; } = static (input, prefix) => input + prefix;
    /// <summary>
    /// Resolves a method spec (<c>snapkv:ratio=0.5</c>) to its hooks; throws ArgumentException for
    /// an unknown spec. Null: only <c>full</c> is known.
    /// </summary>
    public Func<string, KvMethodHooks>? Methods { get; init; }
    /// <summary>Session settings (cache type, batch size); the context size is set per prompt.</summary>
    public SessionOptions Session { get; init; } = new();
}

/// <summary>
/// <see cref="IEvalEngine"/> over LongCtx itself: encode, prefill a fresh session sized to the prompt,
/// apply the KV method, decode greedily to EOS or the token limit, and measure speed and KV bytes.
/// </summary>
public sealed class SessionEngine : IEvalEngine
{
    /// <summary>The spec of the unmodified cache.</summary>
    public const string FullCache = "full";

    private readonly Model _model;
    private readonly IEvalTokenizer _tokenizer;
    private readonly SessionEngineOptions _options;

    /// <summary>Creates an engine over a loaded model and its tokenizer.</summary>
    public SessionEngine(Model model, IEvalTokenizer tokenizer, string modelName, SessionEngineOptions? options = null)
    {
        _model = model;
        _tokenizer = tokenizer;
        _options = options ?? new SessionEngineOptions();
        ModelName = modelName;
        PromptOverhead = tokenizer.Encode(_options.Format("", ""), addSpecial: true, parseSpecial: true).Length;
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
        KvMethodHooks hooks = Resolve(method);
        int[] prompt = _tokenizer.Encode(_options.Format(input, answerPrefix), addSpecial: true, parseSpecial: true);
        SessionOptions sessionOptions = _options.Session with { ContextSize = prompt.Length + maxNewTokens };
        sessionOptions = hooks.Configure?.Invoke(sessionOptions) ?? sessionOptions;
        var session = new Session(_model, sessionOptions);

        var clock = Stopwatch.StartNew();
        ReadOnlySpan<float> logits = session.Prefill(prompt);
        hooks.AfterPrefill?.Invoke(session);
        double prefillSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var generated = new List<int>(maxNewTokens);
        int decodeSteps = 0;
        while (true)
        {
            int next = Greedy.Argmax(logits);
            if (_tokenizer.IsEndOfGeneration(next))
            {
                break;
            }
            generated.Add(next);
            if (generated.Count == maxNewTokens)
            {
                break;
            }
            logits = session.Decode(next);
            decodeSteps++;
        }
        double decodeSeconds = clock.Elapsed.TotalSeconds;

        return new EngineResult
        {
            Text = _tokenizer.Decode(generated.ToArray()),
            PromptTokens = prompt.Length,
            GeneratedTokens = generated.Count,
            PrefillTokensPerSecond = prefillSeconds > 0 ? prompt.Length / prefillSeconds : 0,
            DecodeTokensPerSecond = decodeSeconds > 0 ? decodeSteps / decodeSeconds : 0,
            KvBytes = session.KvCacheBytes,
        };
    }

    private KvMethodHooks Resolve(string method)
    {
        if (string.Equals(method.Trim(), FullCache, StringComparison.OrdinalIgnoreCase))
        {
            return new KvMethodHooks(null, null);
        }
        return _options.Methods is { } resolve
            ? resolve(method)
            : throw new ArgumentException($"unknown KV method '{method}': this engine was given no method registry, so only '{FullCache}' is available");
    }
}
