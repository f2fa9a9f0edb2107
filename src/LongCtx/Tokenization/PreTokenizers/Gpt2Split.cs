namespace LongCtx.Tokenization.PreTokenizers;

/// <summary>
/// GPT-2's pattern <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>,
/// hand-written as llama.cpp's <c>unicode_regex_split_custom_gpt2</c> does it (including how it
/// treats the segment end as the end of the text).
/// </summary>
internal sealed class Gpt2Split : SplitRule
{
    public static readonly Gpt2Split Instance = new();

    public override void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> flags, int start, int end, List<int> lengths)
    {
        int pos = start;
        while (pos < end)
        {
            int from = pos;
            int cp = cps[pos];
            if (cp == '\'' && pos + 1 < end)
            {
                int next = cps[pos + 1];
                if (next is 's' or 't' or 'm' or 'd')
                {
                    pos += 2;
                    lengths.Add(2);
                    continue;
                }
                if (pos + 2 < end)
                {
                    int next2 = cps[pos + 2];
                    if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l'))
                    {
                        pos += 3;
                        lengths.Add(3);
                        continue;
                    }
                }
            }

            // An optional leading space belongs to the letter, number or symbol run that follows it.
            int body = cp == ' ' ? pos + 1 : pos;
            CodepointFlags f = cp == ' ' ? FlagsAt(flags, pos + 1, end) : flags[pos];
            if ((f & CodepointFlags.Letter) != 0)
            {
                pos = body;
                while ((FlagsAt(flags, pos, end) & CodepointFlags.Letter) != 0)
                {
                    pos++;
                }
            }
            else if ((f & CodepointFlags.Number) != 0)
            {
                pos = body;
                while ((FlagsAt(flags, pos, end) & CodepointFlags.Number) != 0)
                {
                    pos++;
                }
            }
            else if (IsOther(f))
            {
                pos = body;
                while (IsOther(FlagsAt(flags, pos, end)))
                {
                    pos++;
                }
            }
            else
            {
                int spaces = 0;
                while ((FlagsAt(flags, pos + spaces, end) & CodepointFlags.Whitespace) != 0)
                {
                    spaces++;
                }
                if (spaces > 1 && pos + spaces < end)
                {
                    pos += spaces - 1;      // \s+(?!\S): leave the last space to the word after it
                }
                else if (spaces > 0)
                {
                    pos += spaces;          // \s+
                }
                else
                {
                    pos++;                  // no rule matches: one code point alone
                }
            }
            lengths.Add(pos - from);
        }
    }

    /// <summary>[^\s\p{L}\p{N}] within the segment (flags of a position past the end are empty).</summary>
    private static bool IsOther(CodepointFlags f) =>
        f != CodepointFlags.None && (f & (CodepointFlags.Whitespace | CodepointFlags.Letter | CodepointFlags.Number)) == 0;
}
