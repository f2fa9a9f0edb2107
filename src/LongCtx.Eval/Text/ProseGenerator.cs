namespace LongCtx.Eval.Text;

/// <summary>
/// Endless, grammatical, meaningless prose over the word lists ("The quiet fox visits the barn near
/// the old harbor."): an essay-like haystack that no corpus holds, for held-out evaluation.
/// </summary>
public static class ProseGenerator
{
    private static readonly string[] Templates =
    [
        "The {a} {n} {v} the {n} near the {a} {n}.",
        "Every {n} in the {n} {v} the {n} when the {n} is {a}.",
        "After the {n} {v} the {n}, {an} {a} {n} {v} the {n} by the {n}.",
        "In the {a} {n}, the {n} and the {n} {vb} together.",
        "It was {an} {a} day for the {n}, and the {n} {v} the {n} without a word.",
        "The {n} of the {n} {v} the {a} {n} every morning.",
        "Nobody knew why the {n} {v} the {n} so often.",
        "Some say the {n} is {a}, but the {n} {v} the {n} anyway.",
        "Later that year the {a} {n} {v} {an} {a} {n}.",
        "Near the {n}, {an} {a} {n} {v} the {n} and the {n}.",
        "When the {n} grew {a}, the {n} {v} the {n} again.",
        "The {n} and the {a} {n} {vb} the {n} at dawn.",
    ];

    /// <summary>The first <paramref name="count"/> words of the prose stream for <paramref name="seed"/>.</summary>
    public static string[] Words(ulong seed, int count)
    {
        var rng = new EvalRandom(StableHash.Mix(seed, 0x9805E));
        var words = new List<string>(count + 32);
        while (words.Count < count)
        {
            words.AddRange(Sentence(rng).Split(' '));
        }
        return [.. words.GetRange(0, count)];
    }

    /// <summary>One generated sentence.</summary>
    public static string Sentence(EvalRandom rng)
    {
        string template = rng.Choice(Templates);
        var parts = template.Split(' ');
        string? pendingArticle = null;
        var output = new List<string>(parts.Length);
        foreach (string part in parts)
        {
            string word = Fill(part, rng, out bool isArticle);
            if (isArticle)
            {
                pendingArticle = word;
                continue;
            }
            if (pendingArticle is not null)
            {
                output.Add("aeiou".Contains(word[0]) ? "an" : "a");
                pendingArticle = null;
            }
            output.Add(word);
        }
        string sentence = string.Join(' ', output);
        return char.ToUpperInvariant(sentence[0]) + sentence[1..];
    }

    private static string Fill(string part, EvalRandom rng, out bool isArticle)
    {
        isArticle = false;
        int open = part.IndexOf('{');
        if (open < 0)
        {
            return part;
        }
        int close = part.IndexOf('}', open);
        string slot = part[(open + 1)..close], suffix = part[(close + 1)..], prefix = part[..open];
        string word;
        switch (slot)
        {
            case "a": word = rng.Choice(WordLists.Adjectives); break;
            case "n": word = rng.Choice(WordLists.Nouns); break;
            case "v": word = ThirdPerson(rng.Choice(WordLists.Verbs)); break;
            case "vb": word = rng.Choice(WordLists.Verbs); break;
            case "an": isArticle = true; return "a";
            default: throw new InvalidOperationException($"unknown prose slot '{slot}'");
        }
        return prefix + word + suffix;
    }

    private static string ThirdPerson(string verb)
    {
        if (verb.EndsWith('y') && verb.Length > 1 && !"aeiou".Contains(verb[^2]))
        {
            return verb[..^1] + "ies";
        }
        if (verb.EndsWith('s') || verb.EndsWith("sh", StringComparison.Ordinal) || verb.EndsWith("ch", StringComparison.Ordinal)
            || verb.EndsWith('x') || verb.EndsWith('z') || verb.EndsWith('o'))
        {
            return verb + "es";
        }
        return verb + "s";
    }
}
