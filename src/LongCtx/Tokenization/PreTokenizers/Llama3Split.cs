namespace LongCtx.Tokenization.PreTokenizers;

/// <summary>
/// The Llama 3 / cl100k pattern
/// <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>
/// and Qwen2's, which is the same with <c>\p{N}</c> one digit at a time. Hand-written as
/// llama.cpp's <c>unicode_regex_split_custom_llama3</c> / <c>_qwen2</c> / <c>_qwen35</c> do it.
/// </summary>
/// <param name="maxDigits">Longest run of digits in one piece.</param>
/// <param name="word">What a word is made of: letters, or (Qwen3.5) letters and combining marks.</param>
internal sealed class Llama3Split(int maxDigits, CodepointFlags word = CodepointFlags.Letter) : SplitRule
{
    /// <summary>llama3, llama-bpe, dbrx, smaug-bpe, chatglm-bpe: digits in groups of up to three.</summary>
    public static readonly Llama3Split Llama3 = new(3);

    /// <summary>qwen2, stablelm2, hunyuan, grok-2, ...: one digit per piece.</summary>
    public static readonly Llama3Split Qwen2 = new(1);

    /// <summary>qwen35: Qwen2's, with combining marks part of words (<c>[\p{L}\p{M}]+</c>).</summary>
    public static readonly Llama3Split Qwen35 = new(1, CodepointFlags.Letter | CodepointFlags.Mark);

    public override void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> flags, int start, int end, List<int> lengths)
    {
        int pos = start;
        while (pos < end)
        {
            int from = pos;
            int cp = cps[pos];
            CodepointFlags f = flags[pos];

            // (?i:'s|'t|'re|'ve|'m|'ll|'d): only ASCII letters lower-case to these.
            if (cp == '\'' && pos + 1 < end)
            {
                int next = AsciiLower(cps[pos + 1]);
                if (next is 's' or 't' or 'm' or 'd')
                {
                    pos += 2;
                    lengths.Add(2);
                    continue;
                }
                if (pos + 2 < end)
                {
                    int next2 = AsciiLower(cps[pos + 2]);
                    if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l'))
                    {
                        pos += 3;
                        lengths.Add(3);
                        continue;
                    }
                }
            }

            // [^\r\n\p{L}\p{N}]?\p{L}+
            if (cp != '\r' && cp != '\n' && (f & CodepointFlags.Number) == 0
                && ((f & word) != 0 || (FlagsAt(flags, pos + 1, end) & word) != 0))
            {
                pos++;
                while ((FlagsAt(flags, pos, end) & word) != 0)
                {
                    pos++;
                }
                lengths.Add(pos - from);
                continue;
            }

            // \p{N}{1,maxDigits}
            if ((f & CodepointFlags.Number) != 0)
            {
                while ((FlagsAt(flags, pos, end) & CodepointFlags.Number) != 0)
                {
                    int group = pos;
                    while (pos - group < maxDigits && (FlagsAt(flags, pos, end) & CodepointFlags.Number) != 0)
                    {
                        pos++;
                    }
                    lengths.Add(pos - group);
                }
                continue;
            }

            //  ?[^\s\p{L}\p{N}]+[\r\n]*  (a space at the very end of the segment also lands here, alone)
            CodepointFlags notSymbol = CodepointFlags.Whitespace | word | CodepointFlags.Number;
            CodepointFlags f2 = cp == ' ' ? FlagsAt(flags, pos + 1, end) : f;
            if ((f2 & notSymbol) == 0)
            {
                if (cp == ' ')
                {
                    pos++;
                }
                while (FlagsAt(flags, pos, end) != CodepointFlags.None && (FlagsAt(flags, pos, end) & notSymbol) == 0)
                {
                    pos++;
                }
                while (CodepointAt(cps, pos, end) is '\r' or '\n')
                {
                    pos++;
                }
                lengths.Add(pos - from);
                continue;
            }

            int spaces = 0, afterLastNewline = 0;
            while ((FlagsAt(flags, pos + spaces, end) & CodepointFlags.Whitespace) != 0)
            {
                if (cps[pos + spaces] is '\r' or '\n')
                {
                    afterLastNewline = pos + spaces + 1;
                }
                spaces++;
            }
            if (afterLastNewline > 0)
            {
                pos = afterLastNewline;     // \s*[\r\n]+
            }
            else if (spaces > 1 && pos + spaces < end)
            {
                pos += spaces - 1;          // \s+(?!\S)
            }
            else if (spaces > 0)
            {
                pos += spaces;              // \s+
            }
            else
            {
                pos++;
            }
            lengths.Add(pos - from);
        }
    }

    private static int AsciiLower(int c) => c is >= 'A' and <= 'Z' ? c + 32 : c;
}
