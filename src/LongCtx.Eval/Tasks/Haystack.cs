using LongCtx.Eval.Text;

namespace LongCtx.Eval.Tasks;

/// <summary>Kind of haystack (RULER's type_haystack).</summary>
public enum HaystackKind
{
    /// <summary>RULER's "repeat": the same five noise sentences, line after line.</summary>
    Noise,
    /// <summary>RULER's "essay": natural text from an <see cref="EssaySource"/>.</summary>
    Essay,
    /// <summary>RULER's "needle": distractor needles with other keys.</summary>
    Needles,
}

/// <summary>Builds haystacks and puts needles into them.</summary>
internal static class Haystack
{
    /// <summary>RULER's noise line.</summary>
    public const string NoiseLine = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.";

    private static readonly string[] NoiseSentences = ["The grass is green.", "The sky is blue.", "The sun is yellow.", "Here we go.", "There and back again."];

    /// <summary>RULER's DEPTHS: np.round(np.linspace(0, 100, 40)).</summary>
    public static readonly int[] RulerDepths = MakeDepths();

    /// <summary>
    /// Noise lines holding <paramref name="sentences"/> noise sentences: full lines of five, the last
    /// one cut after a sentence (finer than RULER's whole lines, so samples hit their length).
    /// </summary>
    public static List<string> NoiseLines(int sentences)
    {
        var lines = new List<string>(sentences / 5 + 1);
        for (int done = 0; done < sentences; done += 5)
        {
            int n = Math.Min(5, sentences - done);
            lines.Add(n == 5 ? NoiseLine : string.Join(' ', NoiseSentences, 0, n));
        }
        return lines;
    }

    /// <summary>Slots (0..lineCount) at which to insert <paramref name="count"/> items: distinct when possible, sorted ascending.</summary>
    public static int[] RandomSlots(EvalRandom rng, int lineCount, int count)
    {
        int slots = lineCount + 1;
        int[] chosen = count <= slots ? rng.Sample(slots, count) : Enumerable.Range(0, count).Select(_ => rng.Next(slots)).ToArray();
        Array.Sort(chosen);
        return chosen;
    }

    /// <summary>Inserts items before the lines at the given ascending slots (an item at slot = count goes last).</summary>
    public static List<string> InsertAt(IReadOnlyList<string> lines, IReadOnlyList<string> items, IReadOnlyList<int> slots)
    {
        var result = new List<string>(lines.Count + items.Count);
        int next = 0;
        for (int i = 0; i <= lines.Count; i++)
        {
            while (next < items.Count && slots[next] == i)
            {
                result.Add(items[next++]);
            }
            if (i < lines.Count)
            {
                result.Add(lines[i]);
            }
        }
        return result;
    }

    /// <summary>RULER's essay insertion points: int(len(sentences) * depth / 100) for depths drawn without replacement from <see cref="RulerDepths"/>.</summary>
    public static int[] RulerSentenceSlots(EvalRandom rng, int sentenceCount, int count)
    {
        int[] picks = count <= RulerDepths.Length
            ? rng.Sample(RulerDepths.Length, count)
            : Enumerable.Range(0, count).Select(_ => rng.Next(RulerDepths.Length)).ToArray();
        var slots = new int[count];
        for (int i = 0; i < count; i++)
        {
            slots[i] = (int)(sentenceCount * (RulerDepths[picks[i]] / 100.0));
        }
        Array.Sort(slots);
        return slots;
    }

    /// <summary>
    /// Essay text with one needle at <paramref name="depthPercent"/> of its characters: at the
    /// nearest sentence boundary, or, when that is more than 1% of the text away (legal prose has
    /// very long sentences), at the nearest word boundary.
    /// </summary>
    public static string EssayWithNeedleAtDepth(IReadOnlyList<string> words, string needle, double depthPercent)
    {
        long total = 0;
        foreach (string w in words)
        {
            total += w.Length + 1;
        }
        double want = total * depthPercent / 100.0;
        int bestSentence = 0, bestWord = 0;
        double sentenceGap = double.MaxValue, wordGap = double.MaxValue;
        long before = 0;
        for (int i = 0; i <= words.Count; i++)
        {
            // Boundary i lies before words[i].
            double gap = Math.Abs(before - want);
            if (gap < wordGap)
            {
                wordGap = gap;
                bestWord = i;
            }
            if ((i == 0 || i == words.Count || Sentences.EndsSentence(words[i - 1])) && gap < sentenceGap)
            {
                sentenceGap = gap;
                bestSentence = i;
            }
            if (i < words.Count)
            {
                before += words[i].Length + 1;
            }
        }
        int at = sentenceGap <= 0.01 * total ? bestSentence : bestWord;
        var parts = new List<string>(words.Count + 1);
        for (int i = 0; i < at; i++)
        {
            parts.Add(words[i]);
        }
        parts.Add(needle);
        for (int i = at; i < words.Count; i++)
        {
            parts.Add(words[i]);
        }
        return string.Join(' ', parts);
    }

    private static int[] MakeDepths()
    {
        var depths = new int[40];
        for (int i = 0; i < 40; i++)
        {
            depths[i] = (int)Math.Round(i * 100.0 / 39, MidpointRounding.ToEven);
        }
        return depths;
    }
}
