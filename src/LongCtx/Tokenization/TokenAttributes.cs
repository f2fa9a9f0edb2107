namespace LongCtx.Tokenization;

/// <summary>
/// What kind of token an id is. Values are llama.cpp's <c>llama_token_attr</c>, derived from
/// <c>tokenizer.ggml.token_type</c> and the fix-ups llama.cpp applies at load.
/// </summary>
[Flags]
public enum TokenAttributes
{
    /// <summary>Type 0 in the file, or any type llama.cpp does not know: renders as nothing.</summary>
    Undefined = 0,
    /// <summary>The unknown token (<c>&lt;unk&gt;</c>).</summary>
    Unknown = 1 << 0,
    /// <summary>A reserved token no text produces.</summary>
    Unused = 1 << 1,
    /// <summary>An ordinary piece of text.</summary>
    Normal = 1 << 2,
    /// <summary>A control token (BOS, EOS, chat markers): recognised in text only when asked, rendered only when asked.</summary>
    Control = 1 << 3,
    /// <summary>A user-defined token: always recognised in text and always rendered.</summary>
    UserDefined = 1 << 4,
    /// <summary>A byte-fallback token <c>&lt;0xXX&gt;</c>.</summary>
    Byte = 1 << 5,
    /// <summary>(unused by llama.cpp's tokenizers)</summary>
    Normalized = 1 << 6,
    /// <summary>Recognising this special token also eats the whitespace before it.</summary>
    LeftStrip = 1 << 7,
    /// <summary>Recognising this special token also eats the whitespace after it.</summary>
    RightStrip = 1 << 8,
    /// <summary>(unused by llama.cpp's tokenizers)</summary>
    SingleWord = 1 << 9,
}
