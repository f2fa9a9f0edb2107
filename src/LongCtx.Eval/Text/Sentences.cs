namespace LongCtx.Eval.Text;

/// <summary>Sentence boundaries in a word sequence (a small stand-in for nltk's sent_tokenize).</summary>
public static class Sentences
{
    /// <summary>True when a whitespace-separated word closes a sentence (ends in . ! or ?, possibly before a quote or bracket).</summary>
    public static bool EndsSentence(string word)
    {
        int i = word.Length - 1;
        while (i >= 0 && word[i] is '"' or '\'' or ')' or ']')
        {
            i--;
        }
        return i >= 0 && word[i] is '.' or '!' or '?';
    }

    /// <summary>
    /// Splits words into sentences: each sentence is the words up to and including one that ends a
    /// sentence; trailing words without an end form a last sentence.
    /// </summary>
    public static List<string> Split(IReadOnlyList<string> words)
    {
        var sentences = new List<string>();
        int start = 0;
        for (int i = 0; i < words.Count; i++)
        {
            if (EndsSentence(words[i]))
            {
                sentences.Add(Join(words, start, i + 1));
                start = i + 1;
            }
        }
        if (start < words.Count)
        {
            sentences.Add(Join(words, start, words.Count));
        }
        return sentences;
    }

    private static string Join(IReadOnlyList<string> words, int from, int to)
    {
        var parts = new string[to - from];
        for (int i = from; i < to; i++)
        {
            parts[i - from] = words[i];
        }
        return string.Join(' ', parts);
    }
}
