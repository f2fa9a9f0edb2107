using System.Diagnostics;
using LongCtx.Generation.Sampling;
using LongCtx.KvCache;
using LongCtx.Tokenization;

namespace LongCtx.Generation;

/// <summary>Receives generated text as it becomes showable (whole UTF-8 characters, never any part of a stop string). The span is valid only during the call.</summary>
public delegate void TextSink(ReadOnlySpan<char> text);

/// <summary>
/// The generation loop shared by the CLI, the server and the evaluations: prefill a prompt, then
/// sample, accept, check the stop condition, stream the text and decode, token by token. It
/// remembers the tokens its session holds, so a prompt that extends them (the next turn of a
/// chat) only prefills the new suffix; any other prompt resets the session first.
/// </summary>
/// <remarks>
/// Per token it allocates nothing: the sampler chain, the stop condition and the session work in
/// buffers of their own, and pieces are the tokenizer's stored bytes. Not thread-safe; one per session.
/// </remarks>
public sealed class TextGenerator
{
    private readonly Session _session;
    private readonly Tokenizer? _tokenizer;
    private SamplerChain _sampler;
    private bool _samplerFresh;   // replaced since the last Generate: it has seen none of _context
    // Every token the sampler has accepted since its last reset, in order: the session holds the
    // first _session.Position of them; a last, sampled but never evaluated token may follow.
    private readonly List<int> _context = [];

    /// <summary>Creates a generator over a session.</summary>
    /// <param name="session">The session; the generator resets it on first use and owns its positions from then on.</param>
    /// <param name="tokenizer">The model's tokenizer (turns tokens into text pieces); null to generate token ids only (no text, so no stop strings).</param>
    /// <param name="sampler">Chooses each token; the generator accepts prompt and generated tokens into it.</param>
    /// <exception cref="ArgumentException">The sampler's vocabulary is not the tokenizer's.</exception>
    public TextGenerator(Session session, Tokenizer? tokenizer, SamplerChain sampler)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(sampler);
        if (tokenizer != null && sampler.VocabSize != tokenizer.VocabSize)
        {
            throw new ArgumentException($"the sampler has a vocabulary of {sampler.VocabSize} tokens, the tokenizer {tokenizer.VocabSize}", nameof(sampler));
        }
        _session = session;
        _tokenizer = tokenizer;
        _sampler = sampler;
        _session.Reset();
    }

    /// <summary>The session generated into.</summary>
    public Session Session => _session;

    /// <summary>KV press applied after each prefill that starts from an empty cache (null: the full cache is kept).
    /// Changing it does not touch what the session already holds; call <see cref="Reset"/> to apply a new one to a held prefix.</summary>
    public IKvPress? Press { get; set; }

    /// <summary>
    /// The sampler chain that chooses each token. Replacing it (other sampling options for the next
    /// call) keeps the session and its tokens for prefix reuse; the next <see cref="Generate"/>
    /// accepts the whole prompt into the new chain, so it samples as it would after a fresh prefill.
    /// </summary>
    /// <exception cref="ArgumentException">The new chain's vocabulary is not the tokenizer's.</exception>
    public SamplerChain Sampler
    {
        get => _sampler;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (_tokenizer != null && value.VocabSize != _tokenizer.VocabSize)
            {
                throw new ArgumentException($"the sampler has a vocabulary of {value.VocabSize} tokens, the tokenizer {_tokenizer.VocabSize}", nameof(value));
            }
            _sampler = value;
            _samplerFresh = true;
        }
    }

    /// <summary>Tokens of the current sequence: the last prompt and what was generated after it (the last generated token may not be evaluated yet).</summary>
    public IReadOnlyList<int> Tokens => _context;

    /// <summary>Forgets the sequence: the next prompt is prefilled whole and the sampler starts over from its seed.</summary>
    public void Reset()
    {
        _context.Clear();
        _session.Reset();
        _sampler.Reset();
    }

    /// <summary>Generates after <paramref name="prompt"/> until <paramref name="stop"/> (or the context) ends it.</summary>
    /// <param name="prompt">The whole token sequence to continue (BOS and chat formatting included). When the sequence this
    /// generator already holds is a prefix of it, only the rest is evaluated.</param>
    /// <param name="stop">Stop strings, end-of-generation ids and token budget; reset here before use.</param>
    /// <param name="onText">Receives the text as it becomes showable; null to discard it.</param>
    /// <param name="generated">When given, the generated token ids are appended to it (the stopping token included).</param>
    /// <param name="cancellationToken">Checked before the prefill and before each token is sampled (not inside the prefill).
    /// A cancelled call leaves the generator consistent: the next prompt still reuses what the session holds.</param>
    /// <exception cref="ArgumentException">The prompt is empty.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="PromptTooLongException">The prompt leaves no position of the context to generate into.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A prompt token is outside the vocabulary.</exception>
    public GenerationResult Generate(ReadOnlySpan<int> prompt, StopCondition stop, TextSink? onText = null, List<int>? generated = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stop);
        if (prompt.IsEmpty)
        {
            throw new ArgumentException("the prompt has no tokens", nameof(prompt));
        }
        if (prompt.Length >= _session.ContextSize)
        {
            throw new PromptTooLongException(prompt.Length, _session.ContextSize);
        }
        cancellationToken.ThrowIfCancellationRequested();
        stop.Reset();

        // Reuse what the session holds when the prompt extends it; otherwise start over.
        int held = _session.Position;
        bool extends = held < prompt.Length && held <= _context.Count && StartsWith(prompt, _context, held);
        if (!extends)
        {
            held = 0;
            _session.Reset();
        }
        // The sampler has seen _context; it needs the prompt's tokens beyond that (all of them after a reset).
        int seen = _context.Count;
        if (_samplerFresh || !extends || seen > prompt.Length || !StartsWith(prompt, _context, seen))
        {
            _sampler.Reset();
            _samplerFresh = false;
            seen = 0;
        }
        _context.RemoveRange(seen, _context.Count - seen);
        for (int i = seen; i < prompt.Length; i++)
        {
            _sampler.Accept(prompt[i]);
            _context.Add(prompt[i]);
        }

        long start = Stopwatch.GetTimestamp();
        ReadOnlySpan<float> logits = Press != null && held == 0 ? _session.Prefill(prompt, Press) : _session.Prefill(prompt[held..]);
        long prefilled = Stopwatch.GetTimestamp();

        int count = 0, decoded = 0;
        StopReason reason;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int token = _sampler.Sample(logits);
            _sampler.Accept(token);
            _context.Add(token);
            generated?.Add(token);
            count++;
            Emit(onText, stop.Append(token, _tokenizer != null ? _tokenizer.TokenToBytes(token) : ReadOnlySpan<byte>.Empty));
            if (stop.IsStopped)
            {
                reason = stop.Reason;
                break;
            }
            if (_session.Position >= _session.ContextSize)
            {
                Emit(onText, stop.Finish());
                reason = StopReason.ContextFull;
                break;
            }
            logits = _session.Decode(token);
            decoded++;
        }
        long end = Stopwatch.GetTimestamp();
        return new GenerationResult(prompt.Length, prompt.Length - held, Stopwatch.GetElapsedTime(start, prefilled),
            count, decoded, Stopwatch.GetElapsedTime(prefilled, end), reason, stop.MatchedStopString);
    }

    private static void Emit(TextSink? onText, ReadOnlySpan<char> text)
    {
        if (onText != null && !text.IsEmpty)
        {
            onText(text);
        }
    }

    private static bool StartsWith(ReadOnlySpan<int> sequence, List<int> prefix, int length)
    {
        if (length > sequence.Length)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            if (sequence[i] != prefix[i])
            {
                return false;
            }
        }
        return true;
    }
}
