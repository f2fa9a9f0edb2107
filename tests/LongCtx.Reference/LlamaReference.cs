using System.Runtime.InteropServices;
using System.Text;

namespace LongCtx.Reference;

/// <summary>
/// llama.cpp as an oracle: one model and one context (a single sequence, id 0) over a GGUF file,
/// with the few operations differential tests need: batched prefill, single-token decode, logits,
/// greedy generation, tokenizer and chat template. Not thread-safe; one instance per test.
/// </summary>
/// <remarks>
/// Positions continue from <see cref="Position"/> until <see cref="Reset"/>. Each call to
/// <c>llama_decode</c> carries at most <see cref="BatchSize"/> tokens (n_batch = n_ubatch).
/// </remarks>
public sealed unsafe class LlamaReference : IDisposable
{
    private readonly string _path;
    private IntPtr _model;
    private IntPtr _context;
    private readonly IntPtr _vocab;
    private LlamaBatch _batch;

    private LlamaReference(string path, IntPtr model, IntPtr context, LlamaBatch batch)
    {
        _path = path;
        _model = model;
        _context = context;
        _batch = batch;
        _vocab = LlamaNative.llama_model_get_vocab(model);
        VocabSize = LlamaNative.llama_vocab_n_tokens(_vocab);
        if (context != IntPtr.Zero)
        {
            ContextSize = checked((int)LlamaNative.llama_n_ctx(context));
            BatchSize = checked((int)LlamaNative.llama_n_batch(context));
        }
    }

    ~LlamaReference() => Free();

    /// <summary>Receives llama.cpp's and ggml's log text; null (the default) keeps them silent.</summary>
    public static Action<string>? LogSink
    {
        get => LlamaRuntime.LogSink;
        set => LlamaRuntime.LogSink = value;
    }

    /// <summary>Loads <paramref name="ggufPath"/> on the CPU and creates a context for it.</summary>
    /// <exception cref="InvalidOperationException">llama.cpp refused the file or the context; the message names the file and quotes llama.cpp's errors.</exception>
    public static LlamaReference Load(string ggufPath, LlamaReferenceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(ggufPath);
        options ??= new LlamaReferenceOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ContextSize, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize ?? 1, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Threads, 1, nameof(options));
        LlamaRuntime.EnsureInitialized();
        LlamaRuntime.ClearProblems();

        LlamaModelParams modelParams = LlamaNative.llama_model_default_params();
        modelParams.NGpuLayers = 0;
        modelParams.UseExtraBufts = options.RepackWeights ? (byte)1 : (byte)0;
        modelParams.VocabOnly = options.VocabOnly ? (byte)1 : (byte)0;
        IntPtr model = LlamaNative.llama_model_load_from_file(ggufPath, modelParams);
        if (model == IntPtr.Zero)
        {
            throw new InvalidOperationException($"llama.cpp could not load '{ggufPath}'. {LlamaRuntime.Problems()}".TrimEnd());
        }
        if (options.VocabOnly)
        {
            return new LlamaReference(ggufPath, model, IntPtr.Zero, default);
        }

        int batchSize = options.BatchSize ?? options.ContextSize;
        LlamaContextParams contextParams = LlamaNative.llama_context_default_params();
        contextParams.NCtx = (uint)options.ContextSize;
        contextParams.NBatch = (uint)batchSize;
        contextParams.NUbatch = (uint)batchSize;
        contextParams.NSeqMax = 1;
        contextParams.NOutputsMax = 0;        // = n_batch: every position may ask for logits
        contextParams.NOutputsMaxPerSeq = 0;
        contextParams.NThreads = options.Threads;
        contextParams.NThreadsBatch = options.Threads;
        contextParams.FlashAttnType = (int)options.FlashAttention;
        contextParams.TypeK = (int)options.KvCacheType;
        contextParams.TypeV = (int)options.KvCacheType;
        contextParams.NoPerf = 1;
        IntPtr context = LlamaNative.llama_init_from_model(model, contextParams);
        if (context == IntPtr.Zero)
        {
            LlamaNative.llama_model_free(model);
            throw new InvalidOperationException($"llama.cpp could not create a context for '{ggufPath}' ({options}). {LlamaRuntime.Problems()}".TrimEnd());
        }

        int nBatch = checked((int)LlamaNative.llama_n_batch(context));
        LlamaBatch batch = LlamaNative.llama_batch_init(nBatch, 0, 1);
        return new LlamaReference(ggufPath, model, context, batch);
    }

    /// <summary>Number of tokens in the vocabulary (= length of every logits row).</summary>
    public int VocabSize { get; }

    /// <summary>KV cache size in tokens as llama.cpp allocated it (the option rounded up to a multiple of 256).</summary>
    public int ContextSize { get; }

    /// <summary>Largest number of tokens per <c>llama_decode</c> call (the option, capped at <see cref="ContextSize"/>).</summary>
    public int BatchSize { get; }

    /// <summary>Position the next decoded token gets (= tokens in the KV cache).</summary>
    public int Position { get; private set; }

    /// <summary>llama.cpp's one-line description, e.g. "llama ?B all F32".</summary>
    public string Description
    {
        get
        {
            byte* buf = stackalloc byte[256];
            int n = LlamaNative.llama_model_desc(Model, buf, 256);
            return n < 0 ? "" : Encoding.UTF8.GetString(buf, Math.Min(n, 255));
        }
    }

    /// <summary>A scalar metadata value rendered as a string (arrays are not supported by llama.cpp); null when the key is missing.</summary>
    public string? MetadataString(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        int size = 256;
        while (true)
        {
            byte[] buf = new byte[size];
            fixed (byte* p = buf)
            {
                int n = LlamaNative.llama_model_meta_val_str(Model, key, p, (nuint)size);
                if (n < 0)
                {
                    return null;
                }
                if (n < size)
                {
                    return Encoding.UTF8.GetString(buf, 0, n);
                }
                size = n + 1;
            }
        }
    }

    /// <summary>Decodes <paramref name="tokens"/> at the next positions and returns the logits after the last one.</summary>
    /// <exception cref="ArgumentException">No tokens, or more than the context has room for.</exception>
    public float[] Prefill(ReadOnlySpan<int> tokens)
    {
        float[][] rows = Run(tokens, allLogits: false, copy: true);
        return rows[0];
    }

    /// <summary>Decodes <paramref name="tokens"/> at the next positions and returns the logits at every one of them.</summary>
    /// <exception cref="ArgumentException">No tokens, or more than the context has room for.</exception>
    public float[][] PrefillAllLogits(ReadOnlySpan<int> tokens) => Run(tokens, allLogits: true, copy: true);

    /// <summary>
    /// Decodes <paramref name="tokens"/> at the next positions, computing the last token's logits
    /// but not copying them out: what a benchmark times.
    /// </summary>
    /// <exception cref="ArgumentException">No tokens, or more than the context has room for.</exception>
    public void Evaluate(ReadOnlySpan<int> tokens) => Run(tokens, allLogits: false, copy: false);

    /// <summary>Decodes one token and returns the logits after it.</summary>
    public float[] Decode(int token) => Prefill([token]);

    /// <summary>Empties the KV cache; the next token goes to position 0.</summary>
    public void Reset()
    {
        LlamaNative.llama_memory_clear(LlamaNative.llama_get_memory(Context), data: true);
        Position = 0;
    }

    /// <summary>
    /// Prefills <paramref name="prompt"/> then picks <paramref name="steps"/> tokens greedily
    /// (argmax, the lowest id on ties), feeding each back except the last.
    /// <paramref name="logitsPerStep"/>[i] is the row token i was chosen from (row 0 = after the prompt).
    /// </summary>
    public int[] GreedyGenerate(ReadOnlySpan<int> prompt, int steps, out float[][] logitsPerStep)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        int[] generated = new int[steps];
        logitsPerStep = new float[steps][];
        float[] logits = Prefill(prompt);
        for (int step = 0; step < steps; step++)
        {
            logitsPerStep[step] = logits;
            generated[step] = ArgMax(logits);
            if (step + 1 < steps)
            {
                logits = Decode(generated[step]);
            }
        }
        return generated;
    }

    /// <summary>Index of the largest value; the lowest index wins ties; NaN never wins.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best] || float.IsNaN(values[best]))
            {
                best = i;
            }
        }
        return best;
    }

    /// <summary>llama.cpp's tokenization of <paramref name="text"/>.</summary>
    /// <param name="addSpecial">Add BOS/EOS as the vocab's add_bos/add_eos flags say.</param>
    /// <param name="parseSpecial">Recognise special and control tokens written in the text (e.g. "&lt;|im_start|&gt;").</param>
    public int[] Tokenize(string text, bool addSpecial, bool parseSpecial)
    {
        ArgumentNullException.ThrowIfNull(text);
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        int[] tokens = new int[utf8.Length + 4];
        fixed (byte* pText = utf8)
        {
            while (true)
            {
                fixed (int* pTokens = tokens)
                {
                    int n = LlamaNative.llama_tokenize(Vocab, pText, utf8.Length, pTokens, tokens.Length, addSpecial, parseSpecial);
                    if (n >= 0)
                    {
                        return tokens.AsSpan(0, n).ToArray();
                    }
                    if (n == int.MinValue)
                    {
                        throw new InvalidOperationException("llama_tokenize: too many tokens for int32");
                    }
                    tokens = new int[-n];
                }
            }
        }
    }

    /// <summary>The text of one token (invalid UTF-8 replaced; use <see cref="TokenToPieceBytes"/> for the raw bytes).</summary>
    public string TokenToPiece(int token, bool special) => Encoding.UTF8.GetString(TokenToPieceBytes(token, special));

    /// <summary>The bytes one token stands for (a byte-fallback token may be part of a UTF-8 sequence).</summary>
    /// <param name="special">Render special/control tokens as their text; false renders them as nothing.</param>
    public byte[] TokenToPieceBytes(int token, bool special)
    {
        byte[] buf = new byte[64];
        while (true)
        {
            fixed (byte* p = buf)
            {
                int n = LlamaNative.llama_token_to_piece(Vocab, token, p, buf.Length, 0, special);
                if (n >= 0)
                {
                    return buf.AsSpan(0, n).ToArray();
                }
                buf = new byte[-n];
            }
        }
    }

    /// <summary>llama.cpp's detokenization of a token sequence.</summary>
    public string Detokenize(ReadOnlySpan<int> tokens, bool removeSpecial, bool unparseSpecial)
    {
        byte[] buf = new byte[tokens.Length * 8 + 16];
        fixed (int* pTokens = tokens)
        {
            while (true)
            {
                fixed (byte* p = buf)
                {
                    int n = LlamaNative.llama_detokenize(Vocab, pTokens, tokens.Length, p, buf.Length, removeSpecial, unparseSpecial);
                    if (n >= 0)
                    {
                        return Encoding.UTF8.GetString(buf, 0, n);
                    }
                    buf = new byte[-n];
                }
            }
        }
    }

    /// <summary>Beginning-of-sequence token id, or -1 when the vocab has none.</summary>
    public int Bos => LlamaNative.llama_vocab_bos(Vocab);

    /// <summary>End-of-sequence token id, or -1.</summary>
    public int Eos => LlamaNative.llama_vocab_eos(Vocab);

    /// <summary>End-of-turn token id, or -1.</summary>
    public int Eot => LlamaNative.llama_vocab_eot(Vocab);

    /// <summary>Padding token id, or -1.</summary>
    public int Pad => LlamaNative.llama_vocab_pad(Vocab);

    /// <summary>Whether tokenizing with add_special prepends BOS.</summary>
    public bool AddBos => LlamaNative.llama_vocab_get_add_bos(Vocab);

    /// <summary>Whether tokenizing with add_special appends EOS.</summary>
    public bool AddEos => LlamaNative.llama_vocab_get_add_eos(Vocab);

    /// <summary>llama.cpp's <c>enum llama_vocab_type</c>: 1 SPM, 2 BPE, ...</summary>
    public int VocabType => LlamaNative.llama_vocab_type(Vocab);

    /// <summary>Whether the token ends generation (EOS, EOT and the other end-of-generation tokens).</summary>
    public bool IsEndOfGeneration(int token) => LlamaNative.llama_vocab_is_eog(Vocab, token);

    /// <summary>Whether the token is a control token.</summary>
    public bool IsControl(int token) => LlamaNative.llama_vocab_is_control(Vocab, token);

    /// <summary>The token's <c>llama_token_attr</c> flags (1 unknown, 2 unused, 4 normal, 8 control, 16 user-defined, 32 byte, 128 lstrip, 256 rstrip).</summary>
    public int Attributes(int token) => LlamaNative.llama_vocab_get_attr(Vocab, token);

    /// <summary>The token's text as stored in the vocabulary.</summary>
    public string TokenText(int token) => Marshal.PtrToStringUTF8((IntPtr)LlamaNative.llama_vocab_get_text(Vocab, token)) ?? "";

    /// <summary>
    /// llama.cpp's Unicode flags of a code point (<c>unicode_cpt_flags_from_cpt</c> in unicode.cpp:
    /// category bits 0x01 undefined, 0x02 number, 0x04 letter, 0x08 separator, 0x10 mark,
    /// 0x20 punctuation, 0x40 symbol, 0x80 control; 0x100 whitespace).
    /// </summary>
    public static int UnicodeFlags(int codepoint)
    {
        LlamaRuntime.EnsureInitialized();
        return LlamaNative.unicode_cpt_flags_from_cpt((uint)codepoint);
    }

    /// <summary>The model's own chat template (<c>tokenizer.chat_template</c>), or null.</summary>
    public string? ChatTemplate
    {
        get
        {
            byte* t = LlamaNative.llama_model_chat_template(Model, null);
            return t == null ? null : Marshal.PtrToStringUTF8((IntPtr)t);
        }
    }

    /// <summary>
    /// llama.cpp's built-in rendering of a chat (<c>llama_chat_apply_template</c>: it recognises
    /// known templates by name or by fingerprint; it does not run Jinja).
    /// </summary>
    /// <param name="template">A template name ("chatml", "llama3", ...) or template text; null = the model's own.</param>
    /// <param name="addAssistant">End with the prefix of an assistant turn.</param>
    /// <exception cref="InvalidOperationException">The model has no template, or llama.cpp does not support it.</exception>
    public string ApplyChatTemplate(string? template, IReadOnlyList<(string Role, string Content)> messages, bool addAssistant)
    {
        ArgumentNullException.ThrowIfNull(messages);
        template ??= ChatTemplate ?? throw new InvalidOperationException($"'{_path}' has no tokenizer.chat_template; pass a template.");
        return LlamaChatTemplate.Apply(template, messages, addAssistant);
    }

    /// <summary>Frees the context and the model.</summary>
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private IntPtr Model => _model != IntPtr.Zero ? _model : throw new ObjectDisposedException(nameof(LlamaReference));

    private IntPtr Context => _context != IntPtr.Zero ? _context
        : _model != IntPtr.Zero ? throw new InvalidOperationException($"'{_path}' was loaded vocab-only: it has no context to decode with.")
        : throw new ObjectDisposedException(nameof(LlamaReference));

    private IntPtr Vocab
    {
        get
        {
            _ = Model;
            return _vocab;
        }
    }

    private float[][] Run(ReadOnlySpan<int> tokens, bool allLogits, bool copy)
    {
        IntPtr context = Context;
        if (tokens.IsEmpty)
        {
            throw new ArgumentException("at least one token is needed", nameof(tokens));
        }
        if (Position + tokens.Length > ContextSize)
        {
            throw new ArgumentException($"{tokens.Length} tokens at position {Position} do not fit a context of {ContextSize}", nameof(tokens));
        }
        foreach (int t in tokens)
        {
            if ((uint)t >= (uint)VocabSize)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), t, $"token id outside [0, {VocabSize})");
            }
        }

        var rows = copy ? new float[allLogits ? tokens.Length : 1][] : [];
        for (int start = 0; start < tokens.Length; start += BatchSize)
        {
            int count = Math.Min(BatchSize, tokens.Length - start);
            bool lastChunk = start + count == tokens.Length;
            _batch.NTokens = count;
            for (int i = 0; i < count; i++)
            {
                _batch.Token[i] = tokens[start + i];
                _batch.Pos[i] = Position + i;
                _batch.NSeqId[i] = 1;
                _batch.SeqId[i][0] = 0;
                _batch.Logits[i] = (sbyte)(allLogits || (lastChunk && i == count - 1) ? 1 : 0);
            }
            int rc = LlamaNative.llama_decode(context, _batch);
            if (rc != 0)
            {
                throw new InvalidOperationException($"llama_decode returned {rc} for {count} tokens at position {Position} ('{_path}'). {LlamaRuntime.Problems()}".TrimEnd());
            }
            Position += count;
            if (!copy)
            {
                continue;
            }
            if (allLogits)
            {
                for (int i = 0; i < count; i++)
                {
                    rows[start + i] = CopyLogits(context, i);
                }
            }
            else if (lastChunk)
            {
                rows[0] = CopyLogits(context, count - 1);
            }
        }
        return rows;
    }

    private float[] CopyLogits(IntPtr context, int batchIndex)
    {
        float* logits = LlamaNative.llama_get_logits_ith(context, batchIndex);
        if (logits == null)
        {
            throw new InvalidOperationException($"llama_get_logits_ith({batchIndex}) returned NULL ('{_path}')");
        }
        return new ReadOnlySpan<float>(logits, VocabSize).ToArray();
    }

    private void Free()
    {
        if (_batch.Token != null)
        {
            LlamaNative.llama_batch_free(_batch);
            _batch = default;
        }
        if (_context != IntPtr.Zero)
        {
            LlamaNative.llama_free(_context);
            _context = IntPtr.Zero;
        }
        if (_model != IntPtr.Zero)
        {
            LlamaNative.llama_model_free(_model);
            _model = IntPtr.Zero;
        }
    }
}
