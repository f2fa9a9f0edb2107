namespace LongCtx.Tokenization;

/// <summary>A piece of the input: a special token, or a stretch of text to tokenize normally.</summary>
internal readonly record struct Fragment(int Token, int Start, int Length)
{
    public bool IsToken => Token >= 0;
}

/// <summary>
/// Cuts special tokens out of text before normal tokenization, exactly as llama.cpp's
/// <c>tokenizer_st_partition</c>: special tokens are taken longest first; each one's
/// occurrences are taken left to right in whatever text earlier (longer) tokens left over; a
/// token with the left/right-strip attribute also eats the whitespace beside it. Control and
/// unknown tokens are looked for only when parsing special tokens is asked for; user-defined
/// tokens always are. Instead of rescanning the text once per special token, all occurrences are
/// found in one pass over a trie and then accepted in llama.cpp's order against a mask.
/// </summary>
internal sealed class SpecialTokenSplitter
{
    private readonly Vocabulary _vocab;
    private readonly Dictionary<long, int> _edges = [];      // (node << 16 | char) → child node
    private readonly List<List<int>?> _tokensAt = [null];    // node → special tokens ending there
    private readonly int[] _rank;                            // token → position in llama.cpp's search order
    private readonly bool[] _firstChar = new bool[char.MaxValue + 1];

    public SpecialTokenSplitter(Vocabulary vocab)
    {
        _vocab = vocab;
        _rank = new int[vocab.Count];
        for (int r = 0; r < vocab.SpecialTokens.Length; r++)
        {
            int id = vocab.SpecialTokens[r];
            _rank[id] = r;
            string text = vocab.Texts[id];
            _firstChar[text[0]] = true;
            int node = 0;
            foreach (char c in text)
            {
                long key = ((long)node << 16) | c;
                if (!_edges.TryGetValue(key, out int child))
                {
                    child = _tokensAt.Count;
                    _tokensAt.Add(null);
                    _edges[key] = child;
                }
                node = child;
            }
            (_tokensAt[node] ??= []).Add(id);
        }
    }

    /// <summary>Splits <paramref name="text"/> into fragments, in order.</summary>
    public void Split(ReadOnlySpan<char> text, bool parseSpecial, List<Fragment> fragments)
    {
        fragments.Clear();
        if (text.IsEmpty)
        {
            return;
        }
        var matches = new List<(int Rank, int Start, int Length, int Token)>();
        for (int i = 0; i < text.Length; i++)
        {
            if (!_firstChar[text[i]])
            {
                continue;
            }
            int node = 0;
            for (int j = i; j < text.Length && _edges.TryGetValue(((long)node << 16) | text[j], out node); j++)
            {
                if (_tokensAt[node] is { } ids)
                {
                    foreach (int id in ids)
                    {
                        if (parseSpecial || (_vocab.Attributes[id] & (TokenAttributes.Control | TokenAttributes.Unknown)) == 0)
                        {
                            matches.Add((_rank[id], i, j - i + 1, id));
                        }
                    }
                }
            }
        }
        if (matches.Count == 0)
        {
            fragments.Add(new Fragment(-1, 0, text.Length));
            return;
        }
        matches.Sort();

        // taken[i]: 0 free text, 1 inside an accepted special token, 2 whitespace stripped away.
        var taken = new byte[text.Length];
        var accepted = new List<(int Start, int Length, int Token)>();
        foreach ((_, int start, int length, int token) in matches)
        {
            if (taken.AsSpan(start, length).ContainsAnyExcept((byte)0))
            {
                continue;
            }
            taken.AsSpan(start, length).Fill(1);
            accepted.Add((start, length, token));
            TokenAttributes attr = _vocab.Attributes[token];
            if ((attr & TokenAttributes.LeftStrip) != 0)
            {
                for (int k = start - 1; k >= 0 && taken[k] == 0 && IsCSpace(text[k]); k--)
                {
                    taken[k] = 2;
                }
            }
            if ((attr & TokenAttributes.RightStrip) != 0)
            {
                for (int k = start + length; k < text.Length && taken[k] == 0 && IsCSpace(text[k]); k++)
                {
                    taken[k] = 2;
                }
            }
        }
        accepted.Sort();

        int next = 0, pos = 0;
        while (pos < text.Length)
        {
            if (next < accepted.Count && accepted[next].Start == pos)
            {
                fragments.Add(new Fragment(accepted[next].Token, pos, accepted[next].Length));
                pos += accepted[next].Length;
                next++;
            }
            else if (taken[pos] == 2)
            {
                pos++;
            }
            else
            {
                int from = pos;
                while (pos < text.Length && taken[pos] == 0)
                {
                    pos++;
                }
                fragments.Add(new Fragment(-1, from, pos - from));
            }
        }
    }

    /// <summary>C's isspace in the "C" locale, which llama.cpp uses for stripping.</summary>
    private static bool IsCSpace(char c) => c is ' ' or (>= '\t' and <= '\r');
}
