using System.Text;
using LongCtx.Gguf;
using LongCtx.Tokenization.PreTokenizers;

namespace LongCtx.Tokenization;

/// <summary>
/// Text ⇄ token ids for a GGUF model, built from its <c>tokenizer.ggml.*</c> metadata and giving
/// the ids llama.cpp's <c>llama_tokenize</c> gives for the same file (tested differentially).
/// Two models are implemented: <c>gpt2</c> byte-level BPE with llama.cpp's pre-tokenizers
/// (llama3 / llama-bpe, qwen2, qwen35, gpt-2, smollm / starcoder, deepseek-llm, deepseek-coder,
/// falcon, default, ...) and <c>llama</c> SentencePiece-style BPE with byte fallback.
/// Thread-safe: encoding keeps its buffers per call.
/// </summary>
/// <remarks>
/// Why not Microsoft.ML.Tokenizers (2.0.1, tried against llama.cpp on the same cl100k_base
/// GGUF): its <c>BpeTokenizer</c>, given the GGUF's tokens and merges and the Hugging Face
/// pattern, and its <c>TiktokenTokenizer</c> give llama.cpp's ids on most text, but differ on 37
/// of 4,813 mixed texts for both llama-bpe and qwen2, because .NET's Regex matches UTF-16 code
/// units and so splits letters outside the BMP (𝐀, 𠀀) differently. It also has no form for
/// llama.cpp's multi-pass pre-tokenizers (default, smollm, deepseek-*), its special-token
/// partition (longest first, user-defined tokens always, strip attributes) or a SentencePiece
/// vocabulary given as GGUF arrays (it reads .model protobufs). The pre-tokenizer, the merge loop
/// and the special-token partition here are llama.cpp's, so the ids are its ids.
/// </remarks>
public sealed class Tokenizer
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Vocabulary _vocab;
    private readonly BpeEncoder? _bpe;
    private readonly SpmEncoder? _spm;
    private readonly SpecialTokenSplitter _specials;

    private Tokenizer(Vocabulary vocab, BpeEncoder? bpe, SpmEncoder? spm)
    {
        _vocab = vocab;
        _bpe = bpe;
        _spm = spm;
        _specials = new SpecialTokenSplitter(vocab);
    }

    /// <summary>Builds the tokenizer described by a GGUF file's metadata (the file may have no tensors).</summary>
    /// <exception cref="GgufFormatException">A tokenizer key is missing or malformed (e.g. a <c>gpt2</c> vocabulary without merges, or a merge naming an unknown token, an unknown model or pre-tokenizer name); the message names the file and the key.</exception>
    /// <exception cref="NotSupportedException">A tokenizer model or pre-tokenizer that llama.cpp knows but LongCtx does not implement.</exception>
    public static Tokenizer FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        Vocabulary vocab = Vocabulary.Load(file);
        return vocab.Kind == VocabularyKind.Bpe
            ? new Tokenizer(vocab, BpeEncoder.Create(file, vocab), null)
            : new Tokenizer(vocab, null, new SpmEncoder(vocab));
    }

    /// <summary>The tokenizer model: <c>gpt2</c> or <c>llama</c>.</summary>
    public string Model => _vocab.Model;

    /// <summary>The pre-tokenizer name of a <c>gpt2</c> vocabulary (<c>tokenizer.ggml.pre</c>; "default" when absent); null for <c>llama</c>.</summary>
    public string? PreTokenizer => _vocab.Kind == VocabularyKind.Bpe ? _vocab.PreName ?? "default" : null;

    /// <summary>Number of tokens.</summary>
    public int VocabSize => _vocab.Count;

    /// <summary>Beginning-of-sequence token.</summary>
    public int? Bos => Id(_vocab.Bos);

    /// <summary>End-of-sequence token.</summary>
    public int? Eos => Id(_vocab.Eos);

    /// <summary>End-of-turn token (<c>&lt;|eot_id|&gt;</c>, <c>&lt;|im_end|&gt;</c>, ...), from the metadata or found by its text.</summary>
    public int? Eot => Id(_vocab.Eot);

    /// <summary>Padding token.</summary>
    public int? Pad => Id(_vocab.Pad);

    /// <summary>The unknown token.</summary>
    public int? Unknown => Id(_vocab.Unknown);

    /// <summary>Whether <see cref="Encode(string, bool, bool)"/> with addSpecial prepends BOS (<c>tokenizer.ggml.add_bos_token</c>, else llama.cpp's default for the model).</summary>
    public bool AddBos => _vocab.AddBos;

    /// <summary>Whether addSpecial appends EOS.</summary>
    public bool AddEos => _vocab.AddEos;

    /// <summary>Whether SentencePiece text gets a leading space (and decoding drops it again).</summary>
    public bool AddSpacePrefix => _vocab.AddSpacePrefix;

    /// <summary>Tokens that end generation (EOS, EOT, EOM and the others llama.cpp recognises), ascending.</summary>
    public IReadOnlyList<int> EndOfGenerationTokens => _vocab.EndOfGeneration;

    private static int? Id(int id) => id >= 0 ? id : null;

    /// <summary>Tokenizes a string.</summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecial">Add BOS/EOS as the vocabulary asks (<see cref="AddBos"/>, <see cref="AddEos"/>).</param>
    /// <param name="parseSpecial">Recognise control tokens written in the text (e.g. <c>&lt;|im_start|&gt;</c>); user-defined tokens are always recognised.</param>
    /// <exception cref="InvalidUtf8Exception">The string holds an unpaired surrogate (offset in chars).</exception>
    public int[] Encode(string text, bool addSpecial = true, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<int>(text.Length / 3 + 4);
        Encode(text.AsSpan(), output, addSpecial, parseSpecial);
        return [.. output];
    }

    /// <summary>Tokenizes UTF-8 bytes.</summary>
    /// <exception cref="InvalidUtf8Exception">The bytes are not valid UTF-8; <see cref="InvalidUtf8Exception.Offset"/> is the byte offset of the first invalid sequence.</exception>
    public int[] Encode(ReadOnlySpan<byte> utf8, bool addSpecial = true, bool parseSpecial = false)
    {
        char[] chars = new char[utf8.Length];
        System.Buffers.OperationStatus status = System.Text.Unicode.Utf8.ToUtf16(utf8, chars, out int read, out int written, replaceInvalidSequences: false);
        if (status != System.Buffers.OperationStatus.Done)
        {
            throw new InvalidUtf8Exception(read);
        }
        var output = new List<int>(utf8.Length / 3 + 4);
        EncodeCore(chars.AsSpan(0, written), output, addSpecial, parseSpecial);
        return [.. output];
    }

    /// <summary>Tokenizes text and appends the tokens to <paramref name="output"/> (the core the other overloads call).</summary>
    /// <exception cref="InvalidUtf8Exception">The text holds an unpaired surrogate.</exception>
    public void Encode(ReadOnlySpan<char> text, List<int> output, bool addSpecial = true, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        int bad = text.IndexOfAnyInRange('\uD800', '\uDFFF') < 0 ? -1 : FindUnpairedSurrogate(text);
        if (bad >= 0)
        {
            throw new InvalidUtf8Exception(bad, "char");
        }
        EncodeCore(text, output, addSpecial, parseSpecial);
    }

    private static int FindUnpairedSurrogate(ReadOnlySpan<char> text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>llama.cpp's <c>llama_vocab::impl::tokenize</c> for the SPM and BPE models.</summary>
    private void EncodeCore(ReadOnlySpan<char> text, List<int> output, bool addSpecial, bool parseSpecial)
    {
        var fragments = new List<Fragment>();
        _specials.Split(text, parseSpecial, fragments);
        if (addSpecial && _vocab.AddBos)
        {
            output.Add(Bos ?? throw new InvalidOperationException($"{_vocab.FilePath}: the vocabulary asks for BOS (add_bos_token) but has no BOS token"));
        }
        if (_spm != null)
        {
            var scratch = new SpmScratch();
            var escaped = new StringBuilder();
            bool previousSpecial = true;   // the text's start counts as "after a special token"
            foreach (Fragment f in fragments)
            {
                if (f.IsToken)
                {
                    output.Add(f.Token);
                    previousSpecial = true;
                    continue;
                }
                escaped.Clear();
                if (_vocab.AddSpacePrefix && previousSpecial)
                {
                    escaped.Append(' ');
                }
                escaped.Append(text.Slice(f.Start, f.Length)).Replace(' ', '\u2581');
                _spm.Encode(escaped.ToString(), scratch, output);
                previousSpecial = false;
            }
        }
        else
        {
            var words = new WordSplitter(_vocab.Pre!);
            var scratch = new BpeScratch();
            foreach (Fragment f in fragments)
            {
                if (f.IsToken)
                {
                    output.Add(f.Token);
                    continue;
                }
                words.Split(text.Slice(f.Start, f.Length));
                for (int w = 0; w < words.Count; w++)
                {
                    _bpe!.EncodeWord(words.WordBytes(w), _vocab.Pre!.IgnoreMerges, scratch, output);
                }
            }
        }
        if (addSpecial && _vocab.AddEos)
        {
            output.Add(Eos ?? throw new InvalidOperationException($"{_vocab.FilePath}: the vocabulary asks for EOS (add_eos_token) but has no EOS token"));
        }
    }

    /// <summary>
    /// Token ids back to text, as llama.cpp's <c>llama_detokenize</c>: SentencePiece drops the
    /// leading space it added; vocabularies with clean_up_tokenization_spaces (llama3, gpt-2,
    /// default, ...) remove the space before <c>. , ! ?</c> and in <c> 's</c>, <c> 'm</c>,
    /// <c> 're</c>, <c> 've</c>, so for those decoding is not the exact inverse of encoding
    /// (the concatenated pieces, as <see cref="StreamingDetokenizer"/> gives them, are).
    /// Invalid UTF-8 (a token sequence cut inside a character) becomes U+FFFD.
    /// </summary>
    /// <param name="tokens">Token ids.</param>
    /// <param name="removeSpecial">Drop a leading BOS and a trailing EOS when the vocabulary adds them.</param>
    /// <param name="unparseSpecial">Render control tokens as their text; false renders them as nothing.</param>
    /// <exception cref="ArgumentOutOfRangeException">A token id outside the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> tokens, bool removeSpecial = false, bool unparseSpecial = false)
    {
        bool removeSpace = _vocab.AddSpacePrefix;
        if (removeSpecial && _vocab.AddBos && tokens.Length > 0 && tokens[0] == _vocab.Bos)
        {
            removeSpace = false;
            tokens = tokens[1..];
        }
        if (removeSpecial && _vocab.AddEos && tokens.Length > 0 && tokens[^1] == _vocab.Eos)
        {
            tokens = tokens[..^1];
        }
        var bytes = new List<byte>(tokens.Length * 4);
        foreach (int token in tokens)
        {
            ReadOnlySpan<byte> piece = TokenToBytes(token, unparseSpecial);
            if (removeSpace && piece.Length > 0 && piece[0] == (byte)' ')
            {
                piece = piece[1..];
            }
            removeSpace = false;
            bytes.AddRange(piece);
        }
        byte[] text = [.. bytes];
        int length = _vocab.CleanSpaces ? CleanSpaces.Apply(text) : text.Length;
        return Encoding.UTF8.GetString(text, 0, length);
    }

    /// <summary>
    /// The bytes one token stands for, as <c>llama_token_to_piece</c> (lstrip 0) gives them: a
    /// byte-fallback token is one byte, possibly part of a UTF-8 character. No allocation.
    /// </summary>
    /// <param name="token">Token id.</param>
    /// <param name="special">Render control and unknown tokens as their text; false renders them as nothing.</param>
    /// <exception cref="ArgumentOutOfRangeException">A token id outside the vocabulary.</exception>
    public ReadOnlySpan<byte> TokenToBytes(int token, bool special = false)
    {
        CheckToken(token);
        if (!special && (_vocab.Attributes[token] & (TokenAttributes.Unknown | TokenAttributes.Control)) != 0)
        {
            return [];
        }
        return _vocab.Pieces[token];
    }

    /// <summary>The text of one token (bytes that are not whole UTF-8 characters become U+FFFD).</summary>
    public string TokenToPiece(int token, bool special = false) => Encoding.UTF8.GetString(TokenToBytes(token, special));

    /// <summary>The token's text as stored in the vocabulary (byte-level BPE writes a space as Ġ, SentencePiece as ▁).</summary>
    public string GetTokenText(int token)
    {
        CheckToken(token);
        return _vocab.Texts[token];
    }

    /// <summary>The token's score (SentencePiece merge priority; 0 when the file has none).</summary>
    public float GetScore(int token)
    {
        CheckToken(token);
        return _vocab.Scores[token];
    }

    /// <summary>What kind of token <paramref name="token"/> is.</summary>
    public TokenAttributes GetAttributes(int token)
    {
        CheckToken(token);
        return _vocab.Attributes[token];
    }

    /// <summary>Whether the token is a control token (llama_vocab_is_control).</summary>
    public bool IsControl(int token) => (GetAttributes(token) & TokenAttributes.Control) != 0;

    /// <summary>Whether generating this token ends generation (llama_vocab_is_eog). False for ids outside the vocabulary.</summary>
    public bool IsEndOfGeneration(int token) => _vocab.IsEndOfGeneration(token);

    /// <summary>The token whose vocabulary text is exactly <paramref name="piece"/> (as stored: see <see cref="GetTokenText"/>), or null.</summary>
    public int? FindToken(string piece)
    {
        ArgumentNullException.ThrowIfNull(piece);
        return _vocab.Ids.TryGetValue(piece, out int id) ? id : null;
    }

    /// <summary>
    /// The special token written <paramref name="text"/> (e.g. <c>&lt;|im_end|&gt;</c>): a control,
    /// user-defined or unknown token with exactly that text. This is the explicit form of special
    /// token syntax: text given to <see cref="Encode(string, bool, bool)"/> that merely looks like a
    /// special token is tokenized as ordinary text, as llama.cpp does, but naming one that does not
    /// exist here is an error.
    /// </summary>
    /// <exception cref="UnknownTokenException">No special token has that text (the message says when an ordinary token does).</exception>
    public int GetSpecialToken(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!_vocab.Ids.TryGetValue(text, out int id))
        {
            throw new UnknownTokenException(text, $"{_vocab.FilePath}: the vocabulary has no special token '{text}'");
        }
        if ((_vocab.Attributes[id] & (TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown)) == 0)
        {
            throw new UnknownTokenException(text, $"{_vocab.FilePath}: '{text}' is token {id}, an ordinary token, not a special one");
        }
        return id;
    }

    private void CheckToken(int token)
    {
        if ((uint)token >= (uint)_vocab.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(token), token, $"token id outside the vocabulary [0, {_vocab.Count})");
        }
    }
}
