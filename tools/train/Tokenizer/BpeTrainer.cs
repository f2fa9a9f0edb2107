using System.Text;

namespace LongCtx.Train.Tokenizer;

/// <summary>
/// Learns byte-level BPE merges (Sennrich et al., arXiv:1508.07909; GPT-2's byte-level form):
/// count the corpus's pre-tokenized words, then repeatedly merge the most frequent adjacent pair
/// (ties: the smaller pair of ids) until the vocabulary is full. Incremental pair counts with an
/// index from pairs to the words that hold them; deterministic for a given corpus.
/// </summary>
internal static class BpeTrainer
{
    /// <summary>Trains a vocabulary of exactly <paramref name="vocabSize"/> tokens (specials included) unless the corpus runs out of pairs.</summary>
    /// <exception cref="ArgumentException">The size leaves no room past the 256 bytes and the specials.</exception>
    public static BpeVocabulary Train(IEnumerable<string> texts, int vocabSize, Action<string>? log = null)
    {
        const int specials = 3;
        if (vocabSize < 256 + specials + 1) throw new ArgumentException($"vocabulary size {vocabSize} must exceed 256 bytes + {specials} specials", nameof(vocabSize));

        // Word frequencies over the pre-tokenized corpus
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string text in texts)
        {
            foreach (string word in PreTokenizer.Split(text))
            {
                counts[word] = counts.GetValueOrDefault(word) + 1;
            }
        }
        var keys = counts.Keys.ToList();
        keys.Sort(StringComparer.Ordinal);
        var words = new List<int>[keys.Count];
        var freq = new long[keys.Count];
        for (int i = 0; i < keys.Count; i++)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(keys[i]);
            words[i] = new List<int>(bytes.Length);
            foreach (byte b in bytes) words[i].Add(b);
            freq[i] = counts[keys[i]];
        }
        log?.Invoke($"bpe: {keys.Count} distinct words, {freq.Sum()} words in all");

        var tokens = new List<string>(vocabSize);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int b = 0; b < 256; b++)
        {
            tokens.Add(ByteLevel.Char((byte)b).ToString());
            ids[tokens[b]] = b;
        }
        var merges = new List<string>();
        var pairCount = new Dictionary<long, long>();
        var where = new Dictionary<long, HashSet<int>>();
        var heap = new PriorityQueue<long, (long NegCount, long Pair)>();
        for (int w = 0; w < words.Length; w++) AddPairs(w, +1);
        foreach (var (pair, c) in pairCount) heap.Enqueue(pair, (-c, pair));

        while (tokens.Count < vocabSize - specials && heap.TryDequeue(out long best, out var priority))
        {
            long count = pairCount.GetValueOrDefault(best);
            if (count != -priority.NegCount || count <= 0) continue;   // stale entry
            if (count < 2) break;
            int left = (int)(best >> 32), right = (int)best;
            string merged = tokens[left] + tokens[right];
            if (!ids.TryGetValue(merged, out int id))
            {
                id = tokens.Count;
                tokens.Add(merged);
                ids[merged] = id;
            }
            merges.Add(tokens[left] + " " + tokens[right]);
            var touched = new HashSet<long>();
            foreach (int w in where[best].ToArray())
            {
                CollectPairs(words[w], touched);
                AddPairs(w, -1);
                Merge(words[w], left, right, id);
                AddPairs(w, +1);
                CollectPairs(words[w], touched);
            }
            var ordered = touched.ToList();
            ordered.Sort();
            foreach (long p in ordered)
            {
                long c = pairCount.GetValueOrDefault(p);
                if (c > 0) heap.Enqueue(p, (-c, p));
            }
        }
        tokens.Add(BpeVocabulary.EndOfText);
        tokens.Add(BpeVocabulary.ImStart);
        tokens.Add(BpeVocabulary.ImEnd);
        log?.Invoke($"bpe: {merges.Count} merges, {tokens.Count} tokens");
        return new BpeVocabulary { Tokens = tokens, Merges = merges, SpecialCount = specials };

        void AddPairs(int w, int sign)
        {
            List<int> s = words[w];
            for (int i = 0; i + 1 < s.Count; i++)
            {
                long p = ((long)s[i] << 32) | (uint)s[i + 1];
                long c = pairCount.GetValueOrDefault(p) + sign * freq[w];
                if (c == 0) pairCount.Remove(p);
                else pairCount[p] = c;
                if (sign > 0)
                {
                    if (!where.TryGetValue(p, out HashSet<int>? set)) where[p] = set = [];
                    set.Add(w);
                }
                else if (c == 0)
                {
                    where.Remove(p);
                }
            }
        }
    }

    private static void CollectPairs(List<int> s, HashSet<long> into)
    {
        for (int i = 0; i + 1 < s.Count; i++) into.Add(((long)s[i] << 32) | (uint)s[i + 1]);
    }

    /// <summary>Replaces each (left, right) in <paramref name="s"/> by <paramref name="id"/>, left to right without overlaps.</summary>
    private static void Merge(List<int> s, int left, int right, int id)
    {
        int o = 0;
        for (int i = 0; i < s.Count; i++)
        {
            if (i + 1 < s.Count && s[i] == left && s[i + 1] == right)
            {
                s[o++] = id;
                i++;
            }
            else
            {
                s[o++] = s[i];
            }
        }
        s.RemoveRange(o, s.Count - o);
    }
}
