namespace LongCtx.Eval.Text;

/// <summary>The word lists of Resources/words.txt, loaded once.</summary>
public static class WordLists
{
    private static readonly Lazy<Dictionary<string, string[]>> Sections = new(Load);
    private static readonly Lazy<string[]> Common = new(() =>
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        set.UnionWith(Adjectives);
        set.UnionWith(Nouns);
        set.UnionWith(Verbs);
        return [.. set];
    });

    /// <summary>Adjectives (needle keys are adjective-noun pairs, as RULER's).</summary>
    public static IReadOnlyList<string> Adjectives => Section("adjectives");
    /// <summary>Concrete nouns.</summary>
    public static IReadOnlyList<string> Nouns => Section("nouns");
    /// <summary>Verbs in their base form.</summary>
    public static IReadOnlyList<string> Verbs => Section("verbs");
    /// <summary>Capitalized first names.</summary>
    public static IReadOnlyList<string> FirstNames => Section("first_names");
    /// <summary>Syllables that compose surnames and place names.</summary>
    public static IReadOnlyList<string> NameSyllables => Section("name_syllables");
    /// <summary>Endings of place names (-bridge, -ford, ...).</summary>
    public static IReadOnlyList<string> PlaceSuffixes => Section("place_suffixes");
    /// <summary>Professions.</summary>
    public static IReadOnlyList<string> Professions => Section("professions");
    /// <summary>Musical instruments.</summary>
    public static IReadOnlyList<string> Instruments => Section("instruments");
    /// <summary>Kinds of organization (Society, Guild, ...).</summary>
    public static IReadOnlyList<string> Organizations => Section("organizations");

    /// <summary>Every distinct adjective, noun and verb, sorted (the common-words vocabulary).</summary>
    public static IReadOnlyList<string> CommonWords => Common.Value;

    /// <summary>A random adjective-noun word such as <c>curious-lantern</c>.</summary>
    public static string AdjectiveNoun(EvalRandom rng) => rng.Choice(Adjectives) + "-" + rng.Choice(Nouns);

    /// <summary>A pronounceable made-up lowercase word of 2–3 syllables (used when the real lists run out).</summary>
    public static string PseudoWord(EvalRandom rng)
    {
        IReadOnlyList<string> syllables = NameSyllables;
        int n = 2 + rng.Next(2);
        var parts = new string[n];
        for (int i = 0; i < n; i++)
        {
            parts[i] = rng.Choice(syllables);
        }
        return string.Concat(parts);
    }

    /// <summary>A capitalized made-up surname or place stem (two syllables).</summary>
    public static string NameStem(EvalRandom rng)
    {
        string stem = rng.Choice(NameSyllables) + rng.Choice(NameSyllables);
        return char.ToUpperInvariant(stem[0]) + stem[1..];
    }

    private static IReadOnlyList<string> Section(string name) =>
        Sections.Value.TryGetValue(name, out string[]? words) ? words : throw new InvalidOperationException($"words.txt has no section '{name}'");

    private static Dictionary<string, string[]> Load()
    {
        var result = new Dictionary<string, string[]>(StringComparer.Ordinal);
        string? current = null;
        var words = new List<string>();
        foreach (string raw in EmbeddedText.Read("words.txt").Split('\n'))
        {
            string line = raw.Trim();
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                Flush();
                current = line[3..].Trim();
            }
            else if (line.Length > 0 && !line.StartsWith('#') && current is not null)
            {
                words.AddRange(line.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }
        }
        Flush();
        return result;

        void Flush()
        {
            if (current is not null)
            {
                result[current] = [.. words.Distinct(StringComparer.Ordinal)];
            }
            words.Clear();
        }
    }
}
