using LongCtx.Eval.Scoring;
using LongCtx.Eval.Text;

namespace LongCtx.Eval.Tasks;

/// <summary>Settings of a needle-in-a-haystack task (RULER's niah.py arguments).</summary>
public sealed record NiahOptions
{
    /// <summary>RULER's needle sentence. Placeholders: {type} (plural value kind), {key}, {value}.</summary>
    public const string RulerNeedle = "One of the special magic {type} for {key} is: {value}.";

    /// <summary>What the needles hide in.</summary>
    public HaystackKind Haystack { get; init; } = HaystackKind.Essay;
    /// <summary>Source of the essay haystack (held-out variants use the other one).</summary>
    public EssaySource EssaySource { get; init; } = EssaySource.Licenses;
    /// <summary>Kind of the keys (type_needle_k).</summary>
    public NeedleKind KeyKind { get; init; } = NeedleKind.Words;
    /// <summary>Kind of the values (type_needle_v).</summary>
    public NeedleKind ValueKind { get; init; } = NeedleKind.Numbers;
    /// <summary>Keys with needles (num_needle_k); raised to <see cref="Queries"/> when smaller, as RULER does.</summary>
    public int Keys { get; init; } = 1;
    /// <summary>Values per key (num_needle_v).</summary>
    public int ValuesPerKey { get; init; } = 1;
    /// <summary>Keys asked about (num_needle_q).</summary>
    public int Queries { get; init; } = 1;
    /// <summary>The needle sentence; another phrasing gives a held-out needle format.</summary>
    public string NeedleFormat { get; init; } = RulerNeedle;
    /// <summary>Puts the single needle at this depth in percent (needle grid); null = RULER's random depths.</summary>
    public double? Depth { get; init; }
    /// <summary>Tokens to generate (RULER: 128).</summary>
    public int MaxNewTokens { get; init; } = 128;
}

/// <summary>
/// RULER's needle-in-a-haystack family (niah_single_*, niah_multikey_*, niah_multivalue,
/// niah_multiquery): needles "One of the special magic numbers for KEY is: VALUE." hidden in a
/// haystack; the question asks for the values of one or more keys. Scored by string_match_all.
/// </summary>
public sealed class NiahTask : IEvalTask
{
    private const string Intro = "Some special magic {type_needle_v} are hidden within the following text. Make sure to memorize it. I will quiz you about the {type_needle_v} afterwards.";
    private const string Question = "What are all the special magic {type_needle_v} for {query} mentioned in the provided text?";
    private const string Prefix = " The special magic {type_needle_v} for {query} mentioned in the provided text are";

    private readonly NiahOptions _o;

    /// <summary>Creates the task.</summary>
    /// <exception cref="ArgumentException">Counts below 1, a depth outside 0..100 or with more than one needle, or a needle format without {key} and {value}.</exception>
    public NiahTask(string name, NiahOptions options)
    {
        if (options.Keys < 1 || options.ValuesPerKey < 1 || options.Queries < 1)
        {
            throw new ArgumentException($"{name}: keys, values per key and queries must be at least 1");
        }
        int keys = Math.Max(options.Keys, options.Queries);
        if (options.Depth is double d && (d < 0 || d > 100 || keys * options.ValuesPerKey != 1))
        {
            throw new ArgumentException($"{name}: a fixed depth needs exactly one needle and a depth in 0..100 (got {d})");
        }
        if (!options.NeedleFormat.Contains("{key}", StringComparison.Ordinal) || !options.NeedleFormat.Contains("{value}", StringComparison.Ordinal))
        {
            throw new ArgumentException($"{name}: the needle format must contain {{key}} and {{value}}: '{options.NeedleFormat}'");
        }
        Name = name;
        _o = options with { Keys = keys };
    }

    /// <inheritdoc/>
    public string Name { get; }
    /// <inheritdoc/>
    public int MaxNewTokens => _o.MaxNewTokens;
    /// <inheritdoc/>
    public Metric Metric => Metric.StringMatchAll;
    /// <inheritdoc/>
    public double? Depth => _o.Depth;
    /// <summary>The settings.</summary>
    public NiahOptions Options => _o;

    /// <inheritdoc/>
    public EvalSample Generate(SampleRequest request)
    {
        // Content first, from its own stream, so it does not depend on the haystack size.
        var rng = new EvalRandom(request.Seed);
        string typeName = NeedleValues.TypeName(_o.ValueKind);
        var keys = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var values = new List<List<string>>();
        var needles = new List<string>();
        while (keys.Count < _o.Keys)
        {
            string key = NeedleValues.Next(_o.KeyKind, rng);
            if (!seen.Add(key))
            {
                continue;
            }
            keys.Add(key);
            var v = new List<string>();
            for (int j = 0; j < _o.ValuesPerKey; j++)
            {
                v.Add(NeedleValues.Next(_o.ValueKind, rng));
                needles.Add(FormatNeedle(typeName, key, v[^1]));
            }
            values.Add(v);
        }
        rng.Shuffle(needles);
        int[] asked = rng.Sample(_o.Keys, _o.Queries);
        var queries = asked.Select(i => keys[i]).ToList();
        var answers = asked.SelectMany(i => values[i]).ToList();
        string query = queries.Count > 1 ? string.Join(", ", queries.Take(queries.Count - 1)) + ", and " + queries[^1] : queries[0];
        ulong essaySeed = rng.NextUInt64();
        ulong placeSeed = rng.NextUInt64();

        string intro = Intro, question = Question, prefix = Prefix, type = typeName;
        if (_o.Queries * _o.ValuesPerKey == 1)
        {
            // RULER's singular wording when exactly one value is asked for.
            intro = Singular(intro);
            question = Singular(question);
            prefix = Singular(prefix);
            type = type[..^1];
        }
        intro = intro.Replace("{type_needle_v}", type, StringComparison.Ordinal);
        question = question.Replace("{type_needle_v}", type, StringComparison.Ordinal).Replace("{query}", query, StringComparison.Ordinal);
        prefix = prefix.Replace("{type_needle_v}", type, StringComparison.Ordinal).Replace("{query}", query, StringComparison.Ordinal);

        string Build(int units)
        {
            string context = Context(units, needles, seen, typeName, essaySeed, new EvalRandom(placeSeed));
            return intro + "\n" + context + "\n" + question;
        }

        return SampleFitting.Fit(this, request, prefix, answers, Build);
    }

    private string FormatNeedle(string typeName, string key, string value) =>
        _o.NeedleFormat.Replace("{type}", typeName, StringComparison.Ordinal)
            .Replace("{key}", key, StringComparison.Ordinal)
            .Replace("{value}", value, StringComparison.Ordinal);

    private static string Singular(string s) =>
        s.Replace("Some", "A", StringComparison.Ordinal).Replace("are all", "is", StringComparison.Ordinal)
         .Replace("are", "is", StringComparison.Ordinal).Replace("answers", "answer", StringComparison.Ordinal);

    // Distractor needles holding `words` words in all. Whole lines would make the length jump by a
    // needle (up to 2% at 4K with UUIDs), so the last line drawn is cut to the words still needed
    // and put first, as if the text were a window starting inside a longer list (BABILong also cuts
    // its last background sentence to hit the length).
    private List<string> DistractorLines(int words, HashSet<string> realKeys, string typeName, EvalRandom place)
    {
        var lines = new List<string>();
        int have = 0;
        while (have < words)
        {
            string key = NeedleValues.Next(_o.KeyKind, place);
            if (realKeys.Contains(key))
            {
                continue;
            }
            string line = FormatNeedle(typeName, key, NeedleValues.Next(_o.ValueKind, place));
            string[] parts = line.Split(' ');
            if (have + parts.Length > words)
            {
                lines.Insert(0, string.Join(' ', parts[^(words - have)..]));
                break;
            }
            lines.Add(line);
            have += parts.Length;
        }
        return lines;
    }

    // units: noise sentences, essay words, or words of distractor needles.
    private string Context(int units, List<string> needles, HashSet<string> realKeys, string typeName, ulong essaySeed, EvalRandom place)
    {
        switch (_o.Haystack)
        {
            case HaystackKind.Essay:
            {
                string[] words = EssayCorpus.Words(_o.EssaySource, essaySeed, units);
                if (_o.Depth is double depth)
                {
                    return Haystack.EssayWithNeedleAtDepth(words, needles[0], depth);
                }
                List<string> sentences = Sentences.Split(words);
                int[] slots = Haystack.RulerSentenceSlots(place, sentences.Count, needles.Count);
                return string.Join(' ', Haystack.InsertAt(sentences, needles, slots));
            }
            case HaystackKind.Noise:
            case HaystackKind.Needles:
            {
                List<string> lines;
                if (_o.Haystack == HaystackKind.Noise)
                {
                    lines = Haystack.NoiseLines(units);
                }
                else
                {
                    lines = DistractorLines(units, realKeys, typeName, place);
                }
                int[] slots = _o.Depth is double depth
                    ? [(int)Math.Round(lines.Count * depth / 100.0)]
                    : Haystack.RandomSlots(place, lines.Count, needles.Count);
                return string.Join('\n', Haystack.InsertAt(lines, needles, slots));
            }
            default:
                throw new InvalidOperationException($"unknown haystack {_o.Haystack}");
        }
    }
}
