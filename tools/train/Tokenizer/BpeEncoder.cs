using System.Text;

namespace LongCtx.Train.Tokenizer;

/// <summary>
/// Text to token ids with a <see cref="BpeVocabulary"/>, as llama.cpp's BPE tokenizer does it
/// (llm_tokenizer_bpe_session): pre-tokenize, map bytes to byte-level characters, then merge the
/// adjacent pair of lowest rank (leftmost first) until none applies. Special tokens are never
/// parsed from text; the data pipeline inserts their ids. Words are cached.
/// </summary>
internal sealed class BpeEncoder
{
    private readonly BpeVocabulary _vocab;
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), int> _ranks = [];
    private readonly Dictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    public BpeEncoder(BpeVocabulary vocab)
    {
        _vocab = vocab;
        for (int i = 0; i < vocab.Tokens.Count; i++) _ids.TryAdd(vocab.Tokens[i], i);
        for (int r = 0; r < vocab.Merges.Count; r++)
        {
            string m = vocab.Merges[r];
            int space = m.IndexOf(' ', 1);
            _ranks.TryAdd((m[..space], m[(space + 1)..]), r);
        }
    }

    public BpeVocabulary Vocabulary => _vocab;

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="output"/>.</summary>
    public void Encode(string text, List<int> output)
    {
        foreach (string word in PreTokenizer.Split(text))
        {
            if (!_cache.TryGetValue(word, out int[]? ids))
            {
                ids = EncodeWord(word);
                if (_cache.Count < 1_000_000) _cache[word] = ids;
            }
            output.AddRange(ids);
        }
    }

    public List<int> Encode(string text)
    {
        var ids = new List<int>();
        Encode(text, ids);
        return ids;
    }

    /// <summary>The text of <paramref name="ids"/> (specials verbatim); invalid UTF-8 becomes U+FFFD.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            string t = _vocab.Tokens[id];
            if (id >= _vocab.Count - _vocab.SpecialCount) bytes.AddRange(Encoding.UTF8.GetBytes(t));
            else ByteLevel.Decode(t, bytes);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private int[] EncodeWord(string word)
    {
        string chars = ByteLevel.Encode(Encoding.UTF8.GetBytes(word));
        var symbols = new List<string>(chars.Length);
        foreach (char c in chars) symbols.Add(c.ToString());
        while (symbols.Count > 1)
        {
            int bestRank = int.MaxValue, at = -1;
            for (int i = 0; i + 1 < symbols.Count; i++)
            {
                if (_ranks.TryGetValue((symbols[i], symbols[i + 1]), out int r) && r < bestRank)
                {
                    bestRank = r;
                    at = i;
                }
            }
            if (at < 0) break;
            symbols[at] += symbols[at + 1];
            symbols.RemoveAt(at + 1);
        }
        var ids = new int[symbols.Count];
        for (int i = 0; i < ids.Length; i++) ids[i] = _ids[symbols[i]];
        return ids;
    }
}
