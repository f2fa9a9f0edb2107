using System.Text;
using LongCtx.Gguf;
using LongCtx.Tokenization.PreTokenizers;

namespace LongCtx.Tokenization;

/// <summary>The two tokenizer models LongCtx implements (<c>tokenizer.ggml.model</c>).</summary>
internal enum VocabularyKind
{
    /// <summary><c>gpt2</c>: byte-level BPE with merges and a pre-tokenizer (llama.cpp's LLAMA_VOCAB_TYPE_BPE).</summary>
    Bpe,
    /// <summary><c>llama</c>: SentencePiece-style BPE over scores, with byte fallback (LLAMA_VOCAB_TYPE_SPM).</summary>
    Spm,
}

/// <summary>
/// A GGUF vocabulary as llama.cpp reads it (<c>llama_vocab::impl::load</c>): token texts, scores
/// and attributes, the special token ids with llama.cpp's defaults per model, add_bos / add_eos,
/// the end-of-generation set and the attribute fix-ups llama.cpp applies by token text and model
/// name. Everything the tokenizer needs is computed once here.
/// </summary>
internal sealed class Vocabulary
{
    private const int Null = -1;

    // Token texts that llama.cpp treats as end of turn / end of generation / fill-in-the-middle
    // markers when the metadata does not name them (llama_vocab::impl::load).
    internal static readonly string[] EotTexts = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"];
    private static readonly string[] EomTexts = ["<|eom_id|>"];
    private static readonly string[] FimPreTexts = ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"];
    private static readonly string[] FimSufTexts = ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"];
    private static readonly string[] FimMidTexts = ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"];
    private static readonly string[] FimPadTexts = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"];
    private static readonly string[] FimRepTexts = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"];
    private static readonly string[] FimSepTexts = ["<|file_sep|>"];
    private static readonly string[] EogTexts = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~["];
    private static readonly string[] AlwaysRenderedTexts = ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"];

    private readonly HashSet<int> _endOfGeneration = [];

    private Vocabulary(string path, VocabularyKind kind, string model, string? pre, string[] texts)
    {
        FilePath = path;
        Kind = kind;
        Model = model;
        PreName = pre;
        Texts = texts;
        Ids = new Dictionary<string, int>(texts.Length, StringComparer.Ordinal);
        IdsBySpan = Ids.GetAlternateLookup<ReadOnlySpan<char>>();
        Attributes = new TokenAttributes[texts.Length];
        Scores = new float[texts.Length];
    }

    public string FilePath { get; }
    public VocabularyKind Kind { get; }
    public string Model { get; }
    public string? PreName { get; }
    public PreTokenizer? Pre { get; private set; }

    /// <summary>Token texts as stored (an empty one becomes <c>[EMPTY_i]</c>, as in llama.cpp).</summary>
    public string[] Texts { get; }
    public TokenAttributes[] Attributes { get; }
    public float[] Scores { get; }

    /// <summary>Text → id; when two ids share a text the later one wins (llama.cpp's token_to_id).</summary>
    public Dictionary<string, int> Ids { get; }
    public Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> IdsBySpan { get; }

    public int Count => Texts.Length;
    public int Bos { get; private set; } = Null;
    public int Eos { get; private set; } = Null;
    public int Eot { get; private set; } = Null;
    public int Eom { get; private set; } = Null;
    public int Unknown { get; private set; } = Null;
    public int Separator { get; private set; } = Null;
    public int Pad { get; private set; } = Null;
    public int Mask { get; private set; } = Null;
    public int FimPre { get; private set; } = Null;
    public int FimSuf { get; private set; } = Null;
    public int FimMid { get; private set; } = Null;
    public int FimPad { get; private set; } = Null;
    public int FimRep { get; private set; } = Null;
    public int FimSep { get; private set; } = Null;

    public bool AddBos { get; private set; }
    public bool AddEos { get; private set; }
    public bool AddSpacePrefix { get; private set; }
    public bool CleanSpaces { get; private set; }

    /// <summary>End-of-generation tokens, ascending.</summary>
    public int[] EndOfGeneration { get; private set; } = [];

    /// <summary>Control, user-defined and unknown tokens, longest UTF-8 text first: the order in which llama.cpp looks for them in text.</summary>
    public int[] SpecialTokens { get; private set; } = [];

    /// <summary>Each token's bytes as <c>llama_token_to_piece(special: true)</c> renders them.</summary>
    public byte[][] Pieces { get; private set; } = [];

    public bool IsEndOfGeneration(int token) => _endOfGeneration.Contains(token);

    /// <summary>Reads the vocabulary of <paramref name="file"/>.</summary>
    /// <exception cref="GgufFormatException">A key is missing or malformed; the message names the file and the key.</exception>
    /// <exception cref="NotSupportedException">A tokenizer model or pre-tokenizer llama.cpp knows but LongCtx does not implement.</exception>
    public static Vocabulary Load(GgufFile file)
    {
        string path = file.FilePath;
        string model = file.GetString(GgufKeys.TokenizerModel);
        string? pre = file.GetStringOrNull(GgufKeys.TokenizerPre);
        VocabularyKind kind = model switch
        {
            "gpt2" => VocabularyKind.Bpe,
            "llama" => VocabularyKind.Spm,
            "no_vocab" or "none" or "bert" or "t5" or "rwkv" or "plamo2" or "gemma4" or "hybriddna" or "whitespace" or "test" =>
                throw new NotSupportedException($"{path}: tokenizer model '{model}' ({GgufKeys.TokenizerModel}) is not supported; LongCtx reads 'gpt2' (byte-level BPE) and 'llama' (SentencePiece) vocabularies"),
            _ => throw new GgufFormatException(path, $"unknown tokenizer model '{model}' in '{GgufKeys.TokenizerModel}'; known models are 'gpt2' and 'llama'"),
        };

        string[] texts = file.GetArray<string>(GgufKeys.TokenizerTokens);
        if (texts.Length == 0)
        {
            throw new GgufFormatException(path, $"'{GgufKeys.TokenizerTokens}' is empty");
        }
        var vocab = new Vocabulary(path, kind, model, pre, texts);
        vocab.ReadModelDefaults(file);
        vocab.ReadTokens(file);
        vocab.ReadSpecialIds(file);
        vocab.FixAttributesByText();
        vocab.BuildEndOfGeneration();
        vocab.SpecialTokens = vocab.SortSpecialTokens();
        vocab.Pieces = vocab.RenderPieces();
        vocab.FixAttributesByModelName(file);
        return vocab;
    }

    /// <summary>Defaults that depend on the model and pre-tokenizer, before the metadata overrides them.</summary>
    private void ReadModelDefaults(GgufFile file)
    {
        if (Kind == VocabularyKind.Spm)
        {
            Bos = 1;
            Eos = 2;
            Unknown = 0;
            AddSpacePrefix = true;
            AddBos = true;
        }
        else
        {
            Bos = 11;   // llama.cpp's gpt2 defaults
            Eos = 11;
            CleanSpaces = true;
            string name = PreName ?? "default";   // llama.cpp warns and uses 'default' when the key is missing
            Pre = PreTokenizer.Find(name);
            if (Pre == null)
            {
                throw PreTokenizer.IsKnownToLlamaCpp(name)
                    ? new NotSupportedException($"{FilePath}: pre-tokenizer '{name}' ({GgufKeys.TokenizerPre}) is not supported by LongCtx yet")
                    : new GgufFormatException(FilePath, $"unknown pre-tokenizer type '{name}' in '{GgufKeys.TokenizerPre}'");
            }
            CleanSpaces = Pre.CleanSpaces;
            AddBos = Pre.AddBos;
            if (Pre.NoDefaultBos)
            {
                Bos = Null;
            }
        }
        AddSpacePrefix = file.GetBool(GgufKeys.TokenizerAddSpacePrefix, AddSpacePrefix);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // runs once per load, over 100K+ entries
    private void ReadTokens(GgufFile file)
    {
        int n = Texts.Length;
        int[]? types = null;
        if (file.Contains(GgufKeys.TokenizerTokenTypes))
        {
            types = file.GetArray<int>(GgufKeys.TokenizerTokenTypes);
            if (types.Length < n)
            {
                throw new GgufFormatException(FilePath, $"'{GgufKeys.TokenizerTokenTypes}' has {types.Length} entries for {n} tokens");
            }
        }
        if (file.Contains(GgufKeys.TokenizerScores))
        {
            float[] scores = file.Get(GgufKeys.TokenizerScores).Value switch
            {
                float[] f => f,
                int[] i => Array.ConvertAll(i, v => (float)v),
                _ => throw new GgufFormatException(FilePath, $"'{GgufKeys.TokenizerScores}' should be an array of float32 or int32"),
            };
            if (scores.Length < n)
            {
                throw new GgufFormatException(FilePath, $"'{GgufKeys.TokenizerScores}' has {scores.Length} entries for {n} tokens");
            }
            Array.Copy(scores, Scores, n);
        }
        for (int i = 0; i < n; i++)
        {
            if (Texts[i].Length == 0)
            {
                Texts[i] = $"[EMPTY_{i}]";
            }
            Ids[Texts[i]] = i;
            Attributes[i] = types == null ? TokenAttributes.Normal : types[i] switch
            {
                1 => TokenAttributes.Normal,
                2 => TokenAttributes.Unknown,
                3 => TokenAttributes.Control,
                4 => TokenAttributes.UserDefined,
                5 => TokenAttributes.Unused,
                6 => TokenAttributes.Byte,
                _ => TokenAttributes.Undefined,
            };
        }
    }

    /// <summary>Special ids from the metadata; an id outside the vocabulary keeps the default (llama.cpp warns).</summary>
    private void ReadSpecialIds(GgufFile file)
    {
        int Read(string key, int current)
        {
            if (current >= Count)
            {
                current = Null;     // a default that does not fit this vocabulary is disabled
            }
            if (!file.Contains(key))
            {
                return current;
            }
            uint id = file.GetUInt32(key);
            return id < (uint)Count ? (int)id : current;
        }
        Bos = Read(GgufKeys.TokenizerBos, Bos);
        Eos = Read(GgufKeys.TokenizerEos, Eos);
        Eot = Read(GgufKeys.TokenizerEot, Eot);
        Eom = Read(GgufKeys.TokenizerEom, Eom);
        Unknown = Read(GgufKeys.TokenizerUnknown, Unknown);
        Separator = Read(GgufKeys.TokenizerSeparator, Separator);
        Pad = Read(GgufKeys.TokenizerPadding, Pad);
        Mask = Read(GgufKeys.TokenizerMask, Mask);
        FimPre = Read(GgufKeys.TokenizerPrefix, Read(GgufKeys.TokenizerFimPre, FimPre));
        FimSuf = Read(GgufKeys.TokenizerSuffix, Read(GgufKeys.TokenizerFimSuf, FimSuf));
        FimMid = Read(GgufKeys.TokenizerMiddle, Read(GgufKeys.TokenizerFimMid, FimMid));
        FimPad = Read(GgufKeys.TokenizerFimPad, FimPad);
        FimRep = Read(GgufKeys.TokenizerFimRep, FimRep);
        FimSep = Read(GgufKeys.TokenizerFimSep, FimSep);
        AddBos = file.GetBool(GgufKeys.TokenizerAddBos, AddBos);
        AddEos = file.GetBool(GgufKeys.TokenizerAddEos, AddEos);
    }

    /// <summary>
    /// Finds EOT, EOM and FIM tokens by text when the metadata does not name them, making each
    /// one found a control token. Control tokens whose text contains "unused" become unused.
    /// </summary>
    /// <remarks>
    /// When a vocabulary holds several candidates (Qwen2 has both &lt;|im_end|&gt; and
    /// &lt;|endoftext|&gt;), llama.cpp takes whichever its std::unordered_map yields first, an order
    /// set by string hashes. We take the first in the list order instead, which prefers the
    /// end-of-turn markers chat templates close turns with. All candidates end generation either
    /// way (<see cref="BuildEndOfGeneration"/>).
    /// </remarks>
    private void FixAttributesByText()
    {
        Eot = Detect(Eot, EotTexts);
        Eom = Detect(Eom, EomTexts);
        FimPre = Detect(FimPre, FimPreTexts);
        FimSuf = Detect(FimSuf, FimSufTexts);
        FimMid = Detect(FimMid, FimMidTexts);
        FimPad = Detect(FimPad, FimPadTexts);
        FimRep = Detect(FimRep, FimRepTexts);
        FimSep = Detect(FimSep, FimSepTexts);
        for (int i = 0; i < Count; i++)
        {
            if ((Attributes[i] & TokenAttributes.Control) != 0 && Texts[i].Contains("unused", StringComparison.Ordinal))
            {
                Attributes[i] |= TokenAttributes.Unused;
            }
        }
    }

    private int Detect(int current, string[] candidates)
    {
        if (current != Null)
        {
            return current;
        }
        int found = Null;
        foreach (string text in candidates)
        {
            if (Ids.TryGetValue(text, out int id))
            {
                found = id;
                break;
            }
        }
        if (found != Null)
        {
            Attributes[found] |= TokenAttributes.Control;
        }
        return found;
    }

    private void BuildEndOfGeneration()
    {
        foreach (int id in (int[])[FimPad, FimRep, FimSep])
        {
            if (id != Null)
            {
                _endOfGeneration.Add(id);
            }
        }
        foreach (string text in EogTexts)
        {
            if (Ids.TryGetValue(text, out int id))
            {
                _endOfGeneration.Add(id);
                Attributes[id] |= TokenAttributes.Control;
            }
        }
        // gpt-oss: these are rendered like text even though they are control tokens.
        foreach (string text in AlwaysRenderedTexts)
        {
            if (Ids.TryGetValue(text, out int id))
            {
                Attributes[id] = TokenAttributes.UserDefined;
            }
        }
        foreach (int id in (int[])[Eos, Eot, Eom])
        {
            if (id != Null)
            {
                _endOfGeneration.Add(id);
            }
        }
        // o200k_harmony and solar-open: "<|end|>" ends a message, not the generation.
        int EogId(string text)
        {
            foreach (int id in _endOfGeneration)
            {
                if (Texts[id] == text)
                {
                    return id;
                }
            }
            return Null;
        }
        int end = EogId("<|end|>");
        bool hasCall = EogId("<|call|>") != Null || EogId("<|calls|>") != Null;
        if (end != Null && ((EogId("<|return|>") != Null && hasCall) || (hasCall && EogId("<|flush|>") != Null)))
        {
            _endOfGeneration.Remove(end);
            Attributes[end] = TokenAttributes.UserDefined;
        }
        // Gemma 4 and PaddleOCR: "</s>" is not an end of generation next to "<|tool_response>".
        int s = EogId("</s>");
        if (s != Null && EogId("<|tool_response>") != Null)
        {
            _endOfGeneration.Remove(s);
            Attributes[s] = TokenAttributes.Normal;
        }
        EndOfGeneration = [.. _endOfGeneration.Order()];
    }

    private int[] SortSpecialTokens()
    {
        var ids = new List<int>();
        for (int i = 0; i < Count; i++)
        {
            if ((Attributes[i] & (TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown)) != 0)
            {
                ids.Add(i);
            }
        }
        int[] lengths = new int[Count];
        foreach (int id in ids)
        {
            lengths[id] = Encoding.UTF8.GetByteCount(Texts[id]);
        }
        // llama.cpp sorts by UTF-8 length only (std::sort); equal lengths keep id order here.
        ids.Sort((a, b) => lengths[a] != lengths[b] ? lengths[b].CompareTo(lengths[a]) : a.CompareTo(b));
        return [.. ids];
    }

    /// <summary><c>llama_token_to_piece(special: true)</c> for every token, as llama.cpp caches it at load.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // runs once per load, over 100K+ entries
    private byte[][] RenderPieces()
    {
        var pieces = new byte[Count][];
        for (int i = 0; i < Count; i++)
        {
            TokenAttributes a = Attributes[i];
            string text = Texts[i];
            if ((a & (TokenAttributes.Unknown | TokenAttributes.Control | TokenAttributes.UserDefined)) != 0)
            {
                pieces[i] = Encoding.UTF8.GetBytes(text);
            }
            else if ((a & TokenAttributes.Normal) != 0)
            {
                pieces[i] = Kind == VocabularyKind.Spm
                    ? Encoding.UTF8.GetBytes(text.Replace('\u2581', ' '))
                    : ByteLevelDecode(text);
            }
            else if ((a & TokenAttributes.Byte) != 0)
            {
                pieces[i] = [ParseByteToken(text)];
            }
            else
            {
                pieces[i] = [];
            }
        }
        return pieces;
    }

    /// <summary>llama.cpp's <c>llama_decode_text</c>: byte-level characters back to bytes; a character that stands for no byte becomes <c>[UNK_BYTE_0x..]</c>.</summary>
    private static byte[] ByteLevelDecode(string text)
    {
        var bytes = new List<byte>(text.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (Rune r in text.EnumerateRunes())
        {
            int b = ByteLevel.ToByte(r.Value);
            if (b >= 0)
            {
                bytes.Add((byte)b);
                continue;
            }
            var unk = new StringBuilder("[UNK_BYTE_0x");
            int n = r.EncodeToUtf8(utf8);
            for (int k = 0; k < n; k++)
            {
                unk.Append(utf8[k].ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
            unk.Append(text).Append(']');
            bytes.AddRange(Encoding.UTF8.GetBytes(unk.ToString()));
        }
        return [.. bytes];
    }

    /// <summary>The byte of a <c>&lt;0xXX&gt;</c> token (strtol over the two characters after "&lt;0x", as llama.cpp reads it).</summary>
    internal static byte ParseByteToken(string text)
    {
        int value = 0;
        for (int i = 3; i < Math.Min(5, text.Length); i++)
        {
            int digit = HexDigit(text[i]);
            if (digit < 0)
            {
                break;
            }
            value = value * 16 + digit;
        }
        return (byte)value;
    }

    private static int HexDigit(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>Per-model attributes llama.cpp sets by name after loading (strip whitespace around some special tokens).</summary>
    private void FixAttributesByModelName(GgufFile file)
    {
        string name = (file.GetStringOrNull(GgufKeys.Name) ?? "").ToLowerInvariant();
        string pre = PreName ?? "";
        string arch = file.GetStringOrNull(GgufKeys.Architecture) ?? "";
        void Set(string text, TokenAttributes attr, bool on)
        {
            if (Ids.TryGetValue(text, out int id))
            {
                Attributes[id] = on ? Attributes[id] | attr : Attributes[id] & ~attr;
            }
        }
        if (pre.Contains("jina-v2-de", StringComparison.Ordinal) || pre.Contains("jina-v2-es", StringComparison.Ordinal)
            || pre.Contains("jina-v2-code", StringComparison.Ordinal) || arch.Contains("nomic-bert-moe", StringComparison.Ordinal)
            || arch.Contains("jina-bert-v3", StringComparison.Ordinal))
        {
            Set("<mask>", TokenAttributes.LeftStrip, true);
        }
        else if (name.Contains("phi-3", StringComparison.Ordinal) || name.Contains("phi3", StringComparison.Ordinal))
        {
            foreach (int id in SpecialTokens)
            {
                Attributes[id] |= TokenAttributes.RightStrip;
            }
            Set("</s>", TokenAttributes.RightStrip, true);
            foreach (string text in (string[])["<unk>", "<s>", "<|endoftext|>"])
            {
                Set(text, TokenAttributes.RightStrip, false);
            }
        }
        else if (name.Contains("modern-bert", StringComparison.Ordinal))
        {
            Set("[MASK]", TokenAttributes.LeftStrip, true);
        }
    }
}
