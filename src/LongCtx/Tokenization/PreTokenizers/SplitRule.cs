namespace LongCtx.Tokenization.PreTokenizers;

/// <summary>
/// A fragment of text as code points, with each code point's flags. A pre-tokenizer splits it
/// into words; ranges are in code points.
/// </summary>
internal sealed class CodepointText
{
    private int[] _codepoints = new int[256];
    private CodepointFlags[] _flags = new CodepointFlags[256];

    public int Length { get; private set; }

    public ReadOnlySpan<int> Codepoints => _codepoints.AsSpan(0, Length);

    public ReadOnlySpan<CodepointFlags> Flags => _flags.AsSpan(0, Length);

    /// <summary>Loads UTF-16 text (valid: surrogates come in pairs).</summary>
    public void Load(ReadOnlySpan<char> text)
    {
        if (_codepoints.Length < text.Length)
        {
            int size = Math.Max(text.Length, _codepoints.Length * 2);
            _codepoints = new int[size];
            _flags = new CodepointFlags[size];
        }
        int n = 0;
        for (int i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(text[i], text[i + 1]);
                i++;
            }
            _codepoints[n] = cp;
            _flags[n] = UnicodeFlags.Of(cp);
            n++;
        }
        Length = n;
    }
}

/// <summary>
/// One pass of a pre-tokenizer (one entry of llama.cpp's <c>regex_exprs</c>): splits a segment
/// of the text into consecutive pieces that cover it, matches and the text between them alike.
/// Passes run in order, each over the pieces of the one before (llama.cpp's <c>unicode_regex_split</c>).
/// </summary>
internal abstract class SplitRule
{
    /// <summary>Splits code points [<paramref name="start"/>, <paramref name="end"/>) and appends the piece lengths.</summary>
    public abstract void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> flags, int start, int end, List<int> lengths);

    /// <summary>The flags at <paramref name="p"/>, or none past the segment end (llama.cpp's <c>_get_flags</c>).</summary>
    protected static CodepointFlags FlagsAt(ReadOnlySpan<CodepointFlags> flags, int p, int end) => p < end ? flags[p] : CodepointFlags.None;

    /// <summary>The code point at <paramref name="p"/>, or -1 past the segment end.</summary>
    protected static int CodepointAt(ReadOnlySpan<int> cps, int p, int end) => p < end ? cps[p] : -1;

    /// <summary>Whitespace as C++ <c>std::regex</c> sees llama.cpp's text: ASCII isspace, other White_Space code points are mapped to \v first.</summary>
    protected static bool IsRegexSpace(int cp, CodepointFlags flags) =>
        cp < 128 ? cp is ' ' or (>= '\t' and <= '\r') : (flags & CodepointFlags.Whitespace) != 0;
}
