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
    private static readonly CharClass FalconPunctuation = CharClass.Of(CodepointFlags.Punctuation, "$+<=>^~|`");
    private static readonly CharClass Numbers = CharClass.Of(CodepointFlags.Number);
    private static readonly CharClass AsciiDigits = CharClass.Ranges("0-9");
    private static readonly CharClass NewLine = CharClass.Ranges("\r\n");
    private static readonly CharClass DeepSeekCjk = CharClass.Ranges("\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF");

    // deepseek-llm's classes as written in its tokenizer.json, escaped so that no editor normalizes
    // them (U+212A KELVIN SIGN is not the letter K).
    private static readonly CharClass DeepSeekLetters = CharClass.Ranges(
        "A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-\U000104D3\U000104D8-\U000104FB\U00010C80-\U00010CB2\U00010CC0-\U00010CF2\U000118A0-\U000118DF\U0001E900-\U0001E943");
    private static readonly CharClass DeepSeekPunctuation = CharClass.Ranges("!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002");

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
        "falcon" => new PreTokenizer { Rules = [new RunSplit(FalconPunctuation), Gpt2Split.Instance, new RunSplit(AsciiDigits, 3, 3)] },
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
