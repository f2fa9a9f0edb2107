namespace LongCtx.Eval.Text;

/// <summary>
/// Where essay-like haystack text comes from. RULER uses Paul Graham's essays, which cannot be
/// downloaded here; these two sources stand in for them. A trainer can train on one and the eval
/// keep the other held out.
/// </summary>
public enum EssaySource
{
    /// <summary>The GPL-3, GPL-2, LGPL-2.1 and GFDL-1.3 texts Debian ships in /usr/share/common-licenses (natural English).</summary>
    Licenses,
    /// <summary>Generated prose: grammatical sentences over the word lists, endless and seedable.</summary>
    Prose,
}

/// <summary>Words of an essay source, as a stream that is the same for the same seed (a longer request extends a shorter one).</summary>
public static class EssayCorpus
{
    private static readonly Lazy<string[]> LicenseWords = new(() =>
    {
        var words = new List<string>();
        foreach (string file in new[] { "GPL-3.txt", "GPL-2.txt", "LGPL-2.1.txt", "GFDL-1.3.txt" })
        {
            // Whitespace collapsed to single spaces, as RULER does with re.sub(r'\s+', " ", essay).
            words.AddRange(EmbeddedText.Read(file).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        }
        return [.. words];
    });

    /// <summary>Number of words in the license texts (they repeat past this length).</summary>
    public static int LicenseWordCount => LicenseWords.Value.Length;

    /// <summary>
    /// The first <paramref name="count"/> words of the source's stream for <paramref name="seed"/>.
    /// Licenses: starts at a seed-chosen sentence and wraps around; prose: generated from the seed.
    /// </summary>
    public static string[] Words(EssaySource source, ulong seed, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return source switch
        {
            EssaySource.Licenses => FromLicenses(seed, count),
            EssaySource.Prose => ProseGenerator.Words(seed, count),
            _ => throw new ArgumentOutOfRangeException(nameof(source), source, "unknown essay source"),
        };
    }

    /// <summary>Parses a source name (<c>licenses</c>, <c>prose</c>).</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static EssaySource Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "licenses" or "license" => EssaySource.Licenses,
        "prose" => EssaySource.Prose,
        _ => throw new ArgumentException($"unknown essay source '{name}' (known: licenses, prose)"),
    };

    private static string[] FromLicenses(ulong seed, int count)
    {
        string[] all = LicenseWords.Value;
        // Start after a sentence end so the haystack begins like a text, not mid-sentence.
        int start = new EvalRandom(seed).Next(all.Length);
        for (int guard = 0; guard < all.Length && !Sentences.EndsSentence(all[(start + all.Length - 1) % all.Length]); guard++)
        {
            start = (start + 1) % all.Length;
        }
        var words = new string[count];
        for (int i = 0; i < count; i++)
        {
            words[i] = all[(start + i) % all.Length];
        }
        return words;
    }
}
