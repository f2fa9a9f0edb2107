using System.Text;
using LongCtx.Eval.Scoring;

namespace LongCtx.Eval.Tasks;

/// <summary>Settings of RULER's frequent words extraction (freq_words_extraction.py arguments).</summary>
public sealed record FrequentWordsOptions
{
    /// <summary>Exponent of the Zipf (zeta) distribution of word counts (alpha).</summary>
    public double Alpha { get; init; } = 2.0;
    /// <summary>Letters per coded word (coded_wordlen).</summary>
    public int WordLength { get; init; } = 6;
    /// <summary>Coded vocabulary size; 0 = length / 50, as RULER.</summary>
    public int VocabularySize { get; init; }
    /// <summary>Tokens to generate (RULER: 50).</summary>
    public int MaxNewTokens { get; init; } = 50;
}

/// <summary>
/// RULER's fwe: random 6-letter "coded words" with Zipf-distributed counts (the most frequent is
/// replaced by '...' noise); the model names the three most frequent. string_match_all.
/// </summary>
public sealed class FrequentWordsTask : IEvalTask
{
    private const string Template = "Read the following coded text and track the frequency of each coded word. Find the three most frequently appeared coded words. {context}\nQuestion: Do not provide any explanation. Please ignore the dots '....'. What are the three most frequently appeared words in the above coded text?";
    private const string Prefix = " Answer: According to the coded text above, the three most frequently appeared words are:";

    private readonly FrequentWordsOptions _o;
    private readonly double _zeta;

    /// <summary>Creates the task.</summary>
    /// <exception cref="ArgumentException">Alpha not above 1, or a word length below 2.</exception>
    public FrequentWordsTask(string name, FrequentWordsOptions options)
    {
        if (options.Alpha <= 1 || options.WordLength < 2)
        {
            throw new ArgumentException($"{name}: alpha must exceed 1 and words need at least 2 letters");
        }
        Name = name;
        _o = options;
        _zeta = Zeta(options.Alpha);
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
        int vocabSize = Math.Max(5, _o.VocabularySize > 0 ? _o.VocabularySize : request.Length / 50);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var vocab = new List<string>();
        while (vocab.Count < vocabSize)
        {
            var c = new char[_o.WordLength];
            for (int i = 0; i < c.Length; i++)
            {
                c[i] = (char)('a' + rng.Next(26));
            }
            string w = new(c);
            if (seen.Add(w))
            {
                vocab.Add(w);
            }
        }
        vocab.Sort(StringComparer.Ordinal);
        rng.Shuffle(vocab);
        vocab[0] = "...";  // the top-ranked word is noise, as RULER
        List<string> answers = vocab.GetRange(1, 3);
        ulong shuffleSeed = rng.NextUInt64();

        string Build(int words)
        {
            var sampled = new List<string>();
            for (int k = 1; k <= vocab.Count; k++)
            {
                int n = (int)(words * Math.Pow(k, -_o.Alpha) / _zeta);
                for (int r = 0; r < n; r++)
                {
                    sampled.Add(vocab[k - 1]);
                }
            }
            new EvalRandom(shuffleSeed).Shuffle(sampled);
            var text = new StringBuilder(sampled.Count * (_o.WordLength + 1));
            text.AppendJoin(' ', sampled);
            return Template.Replace("{context}", text.ToString(), StringComparison.Ordinal);
        }

        return SampleFitting.Fit(this, request, Prefix, answers, Build);
    }

    /// <summary>Riemann zeta for s &gt; 1 (scipy.special.zeta), by direct sum plus Euler–Maclaurin tail.</summary>
    internal static double Zeta(double s)
    {
        const int n = 1000;
        double sum = 0;
        for (int k = 1; k < n; k++)
        {
            sum += Math.Pow(k, -s);
        }
        // Tail from n: integral + half the first term + first Bernoulli correction.
        sum += Math.Pow(n, 1 - s) / (s - 1) + 0.5 * Math.Pow(n, -s) + s / 12.0 * Math.Pow(n, -s - 1);
        return sum;
    }
}
