using System.Text.RegularExpressions;
using LongCtx.Eval;

namespace LongCtx.Tests.Eval;

/// <summary>
/// A deterministic stand-in for a BPE tokenizer's token count: GPT-2-style pre-tokens, letter runs
/// cost one token per 4 letters, digits one each, other symbols one each, whitespace runs one.
/// Its density (~4 characters per token on English) is close to real vocabularies, which is what
/// the generators' sizing needs to be exercised; the real tokenizer implements the same interface.
/// </summary>
internal sealed partial class PieceCounter : ITokenCounter
{
    public int Calls { get; private set; }

    public int Count(string text)
    {
        Calls++;
        int tokens = 0;
        foreach (Match m in Pieces().Matches(text))
        {
            string p = m.Value;
            string core = p.TrimStart(' ');
            if (core.Length == 0)
            {
                tokens++;
            }
            else if (char.IsLetter(core[0]))
            {
                tokens += (core.Length + 3) / 4;
            }
            else
            {
                tokens += core.Length;
            }
        }
        return tokens;
    }

    [GeneratedRegex(@" ?\p{L}+| ?\p{N}| ?[^\s\p{L}\p{N}]+|\s+")]
    private static partial Regex Pieces();
}
