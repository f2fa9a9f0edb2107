namespace LongCtx.Tokenization.PreTokenizers;

/// <summary>
/// How a <c>gpt2</c> (byte-level BPE) vocabulary splits text into words before merging, chosen by
/// <c>tokenizer.ggml.pre</c>, with the vocabulary defaults that come with it. The names, passes
/// and defaults are llama.cpp's (<c>llama_vocab::impl::load</c> and <c>llm_tokenizer_bpe</c>).
/// </summary>
internal sealed record PreTokenizer
{
    /// <summary>The split passes, run in order, each over the pieces of the one before.</summary>
    public required SplitRule[] Rules { get; init; }

    /// <summary>Detokenizing removes the space before <c>. , ! ?</c> and around some apostrophes (HF's clean_up_tokenization_spaces).</summary>
    public bool CleanSpaces { get; init; } = true;

    /// <summary>A word that is itself a token is emitted whole, without merging (HF's ignore_merges).</summary>
    public bool IgnoreMerges { get; init; }

    /// <summary>add_bos defaults to true (the metadata key still overrides it).</summary>
    public bool AddBos { get; init; }

    /// <summary>The vocabulary has no default BOS token (the metadata key still sets one).</summary>
    public bool NoDefaultBos { get; init; }

    private static readonly SplitRule[] Gpt2Rules = [Gpt2Split.Instance];
    private static readonly CharClass PunctuationAndAsciiSymbols = CharClass.Of(CodepointFlags.Punctuation, "$+<=>^~|");
    private static readonly CharClass Numbers = CharClass.Of(CodepointFlags.Number);
    private static readonly CharClass AsciiDigits = CharClass.Ranges("0-9");
    private static readonly CharClass NewLine = CharClass.Ranges("\r\n");
    private static readonly CharClass DeepSeekCjk = CharClass.Ranges("一-龥ࠀ-一가-퟿");

    // deepseek-llm's letters and punctuation, as written in its tokenizer.json.
    private static readonly CharClass DeepSeekLetters = CharClass.Ranges(
        "A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃");
    private static readonly CharClass DeepSeekPunctuation = CharClass.Ranges("!-/:-~！-／：-～‘-‟　-。");

    /// <summary>llama.cpp's default (also used when the key is missing, with a warning).</summary>
    private static readonly PreTokenizer Default = new()
    {
        Rules = [new RunSplit(PunctuationAndAsciiSymbols), Gpt2Split.Instance, new RunSplit(Numbers), new RunSplit(AsciiDigits, 3, 3)],
    };

    private static readonly PreTokenizer Llama3 = new() { Rules = [Llama3Split.Llama3], IgnoreMerges = true, AddBos = true };
    private static readonly PreTokenizer Gpt2 = new() { Rules = Gpt2Rules };
    private static readonly PreTokenizer StarCoder = new() { Rules = [new RunSplit(Numbers, 1, 1), Gpt2Split.Instance] };
    private static readonly PreTokenizer Qwen2 = new() { Rules = [Llama3Split.Qwen2], CleanSpaces = false };

    /// <summary>The pre-tokenizer named <paramref name="name"/>, or null when LongCtx does not implement it.</summary>
    public static PreTokenizer? Find(string name) => name switch
    {
        "default" => Default,
        "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "falcon-h1" or "pixtral" or "midm-2.0" or "lfm2" or "jina-v5-nano" => Llama3,
        "dbrx" or "smaug-bpe" => Llama3 with { IgnoreMerges = false, AddBos = false },
        "glm4" or "chatglm-bpe" => Llama3 with { IgnoreMerges = false, AddBos = false, NoDefaultBos = true },
        "qwen2" or "deepseek-r1-qwen" or "kormo" or "f2llmv2" or "hunyuan" or "solar-open" or "grok-2" => Qwen2,
        "megrez" or "stablelm2" => Qwen2 with { CleanSpaces = true },
        "qwen35" => new PreTokenizer { Rules = [Llama3Split.Qwen35], CleanSpaces = false },
        "gpt-2" or "phi-2" or "jina-es" or "jina-de" or "gigachat" or "jina-v2-es" or "jina-v2-de" or "a.x-4.0" or "mellum"
            or "modern-bert" or "jina-v1-en" or "jina-v2-code" or "roberta-bpe" or "mpt" or "olmo" or "jais" or "exaone4" => Gpt2,
        "trillion" or "granite-docling" => Gpt2 with { CleanSpaces = false },
        "starcoder" or "refact" or "codeshell" or "exaone" or "minerva-7b" or "mellum2" => StarCoder,
        "command-r" or "smollm" => StarCoder with { CleanSpaces = false },
        "falcon" => new PreTokenizer { Rules = [new RunSplit(PunctuationAndAsciiSymbols), Gpt2Split.Instance, new RunSplit(AsciiDigits, 3, 3)] },
        "deepseek-llm" => new PreTokenizer
        {
            Rules =
            [
                new RunSplit(NewLine, 1, 1),
                new RunSplit(DeepSeekLetters, optionalLeadingSpace: true),
                new RunSplit(DeepSeekPunctuation, optionalLeadingSpace: true),
                new TrailingSpaceSplit(),
                new RunSplit(DeepSeekCjk),
                new RunSplit(Numbers),
            ],
            CleanSpaces = false,
        },
        "deepseek-coder" => new PreTokenizer
        {
            Rules =
            [
                new RunSplit(NewLine, 1, 1),
                new RunSplit(CharClass.Of(CodepointFlags.Letter), optionalLeadingSpace: true),
                new RunSplit(CharClass.Of(CodepointFlags.Punctuation), optionalLeadingSpace: true),
                new RunSplit(DeepSeekCjk),
                new RunSplit(Numbers, 1, 1),
            ],
            CleanSpaces = false,
        },
        _ => null,
    };

    /// <summary>Pre-tokenizer names llama.cpp accepts that LongCtx does not implement (their patterns need a general regex engine or a different model).</summary>
    public static bool IsKnownToLlamaCpp(string name) => name is "minicpm5" or "deepseek-v3" or "spark2_5" or "youtu" or "jais-2"
        or "gemma4" or "granite-embed-multi-311m" or "sarvam-moe" or "whitespace" or "poro-chat" or "viking" or "tekken"
        or "bloom" or "gpt3-finnish" or "exaone-moe" or "chameleon" or "gpt-4o" or "llama4" or "kanana2" or "talkie"
        or "granite-embed-multi-97m" or "tiny_aya" or "cohere2moe" or "superbpe" or "bailingmoe" or "bailingmoe2"
        or "llada-moe" or "seed-coder" or "hunyuan-dense" or "hy_v4" or "joyai-llm" or "kimi-k2" or "ufakzeka" or "afmoe"
        or "laguna" or "minimax-m2";
}
