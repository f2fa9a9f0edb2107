using System.Globalization;
using System.Text;
using LongCtx.Eval.Scoring;
using LongCtx.Eval.Text;

namespace LongCtx.Eval.Tasks;

/// <summary>Settings of RULER's common words extraction (common_words_extraction.py arguments).</summary>
public sealed record CommonWordsOptions
{
    /// <summary>Repeats of each common word (freq_cw) at lengths of 4096 and more; 6 below, as RULER.</summary>
    public int CommonRepeats { get; init; } = 30;
    /// <summary>Repeats of each uncommon word (freq_ucw) at 4096 and more; 1 below.</summary>
    public int UncommonRepeats { get; init; } = 3;
    /// <summary>Number of common words asked for (num_cw).</summary>
    public int CommonWords { get; init; } = 10;
    /// <summary>Tokens to generate (RULER: 120).</summary>
    public int MaxNewTokens { get; init; } = 120;
}

/// <summary>
/// RULER's cwe: a numbered list of words where ten appear far more often than the rest; the model
/// names the ten. Aggregation over the whole context; string_match_all.
/// </summary>
public sealed class CommonWordsTask : IEvalTask
{
    private const string Template = "Below is a numbered list of words. In these words, some appear more often than others. Memorize the ones that appear most often.\n{context}\nQuestion: What are the {num_cw} most common words in the above list?";
    private const string Prefix = " Answer: The top {num_cw} words that appear most often in the list are:";

    private readonly CommonWordsOptions _o;

    /// <summary>Creates the task.</summary>
    /// <exception cref="ArgumentException">Counts below 1, or common words not more frequent than uncommon ones.</exception>
    public CommonWordsTask(string name, CommonWordsOptions options)
    {
        if (options.CommonWords < 1 || options.UncommonRepeats < 1 || options.CommonRepeats <= options.UncommonRepeats)
        {
            throw new ArgumentException($"{name}: needs at least one common word, repeated more often than the uncommon ones");
        }
        Name = name;
        _o = options;
    }

    /// <inheritdoc/>
    public string Name { get; }
    /// <inheritdoc/>
    public int MaxNewTokens => _o.MaxNewTokens;
    /// <inheritdoc/>
    public Metric Metric => Metric.StringMatchAll;
    /// <inheritdoc/>
    public double? Depth => null;

    /// <inheritdoc/>
    public EvalSample Generate(SampleRequest request)
    {
        var rng = new EvalRandom(request.Seed);
        bool shortContext = request.Length < 4096;
        string numCw = _o.CommonWords.ToString(CultureInfo.InvariantCulture);
        string template = Template.Replace("{num_cw}", numCw, StringComparison.Ordinal);
        string prefix = Prefix.Replace("{num_cw}", numCw, StringComparison.Ordinal);

        // One solved example first, smaller and with other words, as RULER's few-shot.
        (int exWords, int exCommon, int exUncommon) = shortContext ? (20, 3, 1) : (40, 10, 3);
        (string exContext, List<string> exAnswer) = Example(rng.NextUInt64(), exWords, exCommon, exUncommon);
        string fewShot = template.Replace("{context}", exContext, StringComparison.Ordinal) + prefix + " "
            + string.Join(' ', exAnswer.Select((w, i) => $"{(i + 1).ToString(CultureInfo.InvariantCulture)}. {w}"));
        int common = shortContext ? 6 : _o.CommonRepeats, uncommon = shortContext ? 1 : _o.UncommonRepeats;
        ulong listSeed = rng.NextUInt64();

        (string Input, List<string> Answer) Build(int words)
        {
            (string context, List<string> answer) = Example(listSeed, words, common, uncommon);
            return (fewShot + "\n" + template.Replace("{context}", context, StringComparison.Ordinal), answer);
        }

        return SampleFitting.Fit(this, request, prefix, _o.CommonWords, Build, b => b.Input, b => b.Answer);
    }

    // RULER's get_example: the first num_cw of the sampled words are the common ones.
    private (string Context, List<string> Common) Example(ulong seed, int wordCount, int commonRepeats, int uncommonRepeats)
    {
        var rng = new EvalRandom(seed);
        List<string> words = DistinctWords(rng, Math.Max(wordCount, _o.CommonWords));
        List<string> common = words.GetRange(0, _o.CommonWords);
        var list = new List<string>();
        for (int r = 0; r < commonRepeats; r++)
        {
            list.AddRange(common);
        }
        for (int r = 0; r < uncommonRepeats; r++)
        {
            list.AddRange(words.Skip(_o.CommonWords));
        }
        rng.Shuffle(list);
        var text = new StringBuilder();
        for (int i = 0; i < list.Count; i++)
        {
            if (i > 0)
            {
                text.Append(' ');
            }
            text.Append((i + 1).ToString(CultureInfo.InvariantCulture)).Append(". ").Append(list[i]);
        }
        return (text.ToString(), common);
    }

    // Real words while they last (RULER: wonderwords), then made-up ones (RULER: a larger English list).
    private static List<string> DistinctWords(EvalRandom rng, int count)
    {
        IReadOnlyList<string> vocabulary = WordLists.CommonWords;
        if (count <= vocabulary.Count)
        {
            return rng.Sample(vocabulary.Count, count).Select(i => vocabulary[i]).ToList();
        }
        var words = vocabulary.ToList();
        var seen = new HashSet<string>(words, StringComparer.Ordinal);
        while (words.Count < count)
        {
            string w = WordLists.PseudoWord(rng);
            if (seen.Add(w))
            {
                words.Add(w);
            }
        }
        rng.Shuffle(words);
        return words;
    }
}
