using System.Globalization;

namespace LongCtx.Tokenization;

/// <summary>
/// The general category of a code point, collapsed to the classes pre-tokenizer patterns use
/// (<c>\p{L}</c>, <c>\p{N}</c>, ...), plus White_Space. Bit values are llama.cpp's
/// <c>unicode_cpt_flags</c> (unicode.h), so a test can compare them with libllama directly.
/// </summary>
[Flags]
internal enum CodepointFlags : ushort
{
    None = 0,
    Undefined = 0x0001,    // Cn
    Number = 0x0002,       // \p{N}
    Letter = 0x0004,       // \p{L}
    Separator = 0x0008,    // \p{Z}
    Mark = 0x0010,         // \p{M}
    Punctuation = 0x0020,  // \p{P}
    Symbol = 0x0040,       // \p{S}
    Control = 0x0080,      // \p{C} other than Cn: Cc, Cf, Co, Cs
    Categories = 0x00FF,
    Whitespace = 0x0100,   // Unicode White_Space
}

/// <summary>
/// Code point flags for every code point, from .NET's Unicode data, made to agree with
/// llama.cpp's tables (unicode-data.cpp) bit for bit: a test compares all 0x110000 code points
/// with libllama's <c>unicode_cpt_flags_from_cpt</c>.
/// </summary>
internal static class UnicodeFlags
{
    public const int MaxCodepoint = 0x110000;

    // llama.cpp's tables were generated from Unicode 15.1; .NET 10 ships Unicode 16.0. The code
    // points assigned in 16.0 (DerivedAge 16.0) are unassigned (Cn) to llama.cpp, so they are here too.
    private static readonly int[] AssignedAfterUnicode15_1 =
    [
        0x897, 0x897, 0x1B4E, 0x1B4F, 0x1B7F, 0x1B7F, 0x1C89, 0x1C8A, 0x2427, 0x2429, 0x31E4, 0x31E5,
        0xA7CB, 0xA7CD, 0xA7DA, 0xA7DC, 0x105C0, 0x105F3, 0x10D40, 0x10D65, 0x10D69, 0x10D85, 0x10D8E, 0x10D8F,
        0x10EC2, 0x10EC4, 0x10EFC, 0x10EFC, 0x11380, 0x11389, 0x1138B, 0x1138B, 0x1138E, 0x1138E, 0x11390, 0x113B5,
        0x113B7, 0x113C0, 0x113C2, 0x113C2, 0x113C5, 0x113C5, 0x113C7, 0x113CA, 0x113CC, 0x113D5, 0x113D7, 0x113D8,
        0x113E1, 0x113E2, 0x116D0, 0x116E3, 0x11BC0, 0x11BE1, 0x11BF0, 0x11BF9, 0x11F5A, 0x11F5A, 0x13460, 0x143FA,
        0x16100, 0x16139, 0x16D40, 0x16D79, 0x18CFF, 0x18CFF, 0x1CC00, 0x1CCF9, 0x1CD00, 0x1CEB3, 0x1E5D0, 0x1E5FA,
        0x1E5FF, 0x1E5FF, 0x1F8B2, 0x1F8BB, 0x1F8C0, 0x1F8C1, 0x1FA89, 0x1FA89, 0x1FA8F, 0x1FA8F, 0x1FABE, 0x1FABE,
        0x1FAC6, 0x1FAC6, 0x1FADC, 0x1FADC, 0x1FADF, 0x1FADF, 0x1FAE9, 0x1FAE9, 0x1FBCB, 0x1FBEF,
    ];

    // Unicode White_Space (PropList.txt), the set llama.cpp uses.
    private static readonly int[] WhitespaceCodepoints =
        [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
         0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000];

    private static readonly CodepointFlags[] Table = Build();

    /// <summary>The flags of a code point; out-of-range values are <see cref="CodepointFlags.Undefined"/>.</summary>
    public static CodepointFlags Of(int codepoint) =>
        (uint)codepoint < MaxCodepoint ? Table[codepoint] : CodepointFlags.Undefined;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // runs once per load, over 100K+ entries
    private static CodepointFlags[] Build()
    {
        var table = new CodepointFlags[MaxCodepoint];
        for (int cp = 0; cp < MaxCodepoint; cp++)
        {
            table[cp] = cp is >= 0xD800 and <= 0xDFFF ? CodepointFlags.Control : FromCategory(CharUnicodeInfo.GetUnicodeCategory(cp));
        }
        for (int i = 0; i < AssignedAfterUnicode15_1.Length; i += 2)
        {
            Array.Fill(table, CodepointFlags.Undefined, AssignedAfterUnicode15_1[i], AssignedAfterUnicode15_1[i + 1] - AssignedAfterUnicode15_1[i] + 1);
        }
        foreach (int cp in WhitespaceCodepoints)
        {
            table[cp] |= CodepointFlags.Whitespace;
        }
        return table;
    }

    private static CodepointFlags FromCategory(UnicodeCategory category) => category switch
    {
        UnicodeCategory.OtherNotAssigned => CodepointFlags.Undefined,
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate => CodepointFlags.Control,
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CodepointFlags.Letter,
        UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => CodepointFlags.Mark,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CodepointFlags.Number,
        UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => CodepointFlags.Punctuation,
        UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol or UnicodeCategory.OtherSymbol => CodepointFlags.Symbol,
        _ => CodepointFlags.Separator, // Zs, Zl, Zp
    };
}
