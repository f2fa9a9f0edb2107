using System.Text;

namespace LongCtx.Tokenization.PreTokenizers;

/// <summary>
/// A set of code points for the simple patterns llama.cpp runs through C++ <c>std::regex</c>
/// (those without a hand-written splitter). Unicode classes (<c>\p{L}</c>, ...) test the code
/// point's flags; literal ranges test the code point as llama.cpp hands it to <c>std::wregex</c>:
/// with every non-ASCII White_Space code point replaced by \v.
/// </summary>
internal sealed class CharClass
{
    private readonly CodepointFlags _categories;
    private readonly (int Lo, int Hi)[] _ranges;

    private CharClass(CodepointFlags categories, (int, int)[] ranges)
    {
        _categories = categories;
        _ranges = ranges;
    }

    /// <summary>Code points whose flags intersect <paramref name="categories"/>, plus the literal ranges.</summary>
    public static CharClass Of(CodepointFlags categories, string ranges = "") => new(categories, ParseRanges(ranges));

    /// <summary>Literal ranges written as in a regex class body: <c>a-z</c> pairs and single characters.</summary>
    public static CharClass Ranges(string ranges) => new(CodepointFlags.None, ParseRanges(ranges));

    public bool Contains(int cp, CodepointFlags flags)
    {
        if ((flags & _categories) != 0)
        {
            return true;
        }
        int mapped = cp > 0x7F && (flags & CodepointFlags.Whitespace) != 0 ? 0x0B : cp;
        foreach ((int lo, int hi) in _ranges)
        {
            if (mapped >= lo && mapped <= hi)
            {
                return true;
            }
        }
        return false;
    }

    private static (int, int)[] ParseRanges(string text)
    {
        var cps = new List<int>();
        foreach (Rune r in text.EnumerateRunes())
        {
            cps.Add(r.Value);
        }
        var ranges = new List<(int, int)>();
        for (int i = 0; i < cps.Count; i++)
        {
            if (i + 2 < cps.Count && cps[i + 1] == '-')
            {
                ranges.Add((cps[i], cps[i + 2]));
                i += 2;
            }
            else
            {
                ranges.Add((cps[i], cps[i]));
            }
        }
        return ranges.ToArray();
    }
}

/// <summary>
/// <c>\s?X{min,max}</c> for a class X (the optional leading whitespace only when asked): pieces are
/// the leftmost-first matches, as <c>std::regex_iterator</c> finds them, and the text between them.
/// </summary>
internal sealed class RunSplit(CharClass members, int min = 1, int max = int.MaxValue, bool optionalLeadingSpace = false) : SplitRule
{
    public override void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> flags, int start, int end, List<int> lengths)
    {
        int gapStart = start;
        int pos = start;
        while (pos < end)
        {
            int matchEnd = -1;
            if (optionalLeadingSpace && IsRegexSpace(cps[pos], flags[pos]))
            {
                matchEnd = RunEnd(cps, flags, pos + 1, end);   // greedy \s? first, as the regex engine tries it
            }
            if (matchEnd < 0)
            {
                matchEnd = RunEnd(cps, flags, pos, end);
            }
            if (matchEnd < 0)
            {
                pos++;
                continue;
            }
            if (pos > gapStart)
            {
                lengths.Add(pos - gapStart);
            }
            lengths.Add(matchEnd - pos);
            pos = gapStart = matchEnd;
        }
        if (end > gapStart)
        {
            lengths.Add(end - gapStart);
        }
    }

    /// <summary>End of X{min,max} matched greedily from <paramref name="pos"/>, or -1.</summary>
    private int RunEnd(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> flags, int pos, int end)
    {
        int n = 0;
        while (n < max && pos + n < end && members.Contains(cps[pos + n], flags[pos + n]))
        {
            n++;
        }
        return n >= min ? pos + n : -1;
    }
}

/// <summary><c>\s+$</c>: the whitespace that ends the segment becomes its own piece.</summary>
internal sealed class TrailingSpaceSplit : SplitRule
{
    public override void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> flags, int start, int end, List<int> lengths)
    {
        int p = end;
        while (p > start && IsRegexSpace(cps[p - 1], flags[p - 1]))
        {
            p--;
        }
        if (p > start)
        {
            lengths.Add(p - start);
        }
        if (end > p)
        {
            lengths.Add(end - p);
        }
    }
}
