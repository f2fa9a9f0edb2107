using System.Text.RegularExpressions;

namespace LongCtx.Train.Tokenizer;

/// <summary>
/// Splits text into the words BPE merges within: Qwen2's pattern, which llama.cpp runs for
/// <c>tokenizer.ggml.pre = "qwen2"</c> (unicode_regex_split_custom_qwen2). Single digits are
/// their own words, so a number is a sequence of digit tokens: easy to copy for a small model.
/// </summary>
internal static partial class PreTokenizer
{
    /// <summary>The GGUF <c>tokenizer.ggml.pre</c> value whose split this is.</summary>
    public const string GgufName = "qwen2";

    [GeneratedRegex(@"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>The words of <paramref name="text"/>, in order; their concatenation is the text.</summary>
    public static IEnumerable<string> Split(string text)
    {
        foreach (Match m in Pattern().Matches(text))
        {
            yield return m.Value;
        }
    }
}
