using LongCtx.Eval;
using LongCtx.Eval.Tasks;
using LongCtx.Eval.Text;
using LongCtx.Train.Model;
using LongCtx.Train.Tokenizer;

namespace LongCtx.Train.Data;

/// <summary>
/// Long-context training samples drawn from the evaluation harness's own generators
/// (<see cref="NiahTask"/>, <see cref="VariableTrackingTask"/>), so the model learns the prompt
/// format that <c>longctx eval</c> asks in, but never the evaluation's exact samples:
/// <list type="bullet">
/// <item>haystacks are generated prose, RULER's noise sentences or distractor needles — never the
/// license texts that the evaluation's essay haystack uses (held out);</item>
/// <item>needles use paraphrases of RULER's needle sentence — never RULER's own wording (held out);</item>
/// <item>seeds come from the training stream, not the evaluation's <see cref="TaskCatalog.SampleSeed"/>.</item>
/// </list>
/// A sample is the prompt exactly as the evaluation encodes it (input + answer prefix), then the
/// answer and end-of-generation, with the loss on the answer tokens only.
/// </summary>
internal sealed class RetrievalTasks
{
    /// <summary>Training needle sentences; RULER's "One of the special magic {type} for {key} is: {value}." is held out.</summary>
    public static readonly string[] NeedleFormats =
    [
        "The special magic {type} for {key} is: {value}.",
        "Remember that {key} has the special magic {type}: {value}.",
        "Note: one special magic {type} of {key} is {value}.",
        "Here is a special magic {type} for {key}: {value}.",
        "For {key}, the special magic {type} include {value}.",
        "The value {value} is one of the special magic {type} for {key}.",
        "Write this down: the special magic {type} for {key} is {value}.",
        "{key} -> special magic {type}: {value}.",
    ];

    private readonly BpeEncoder _encoder;
    private readonly ITokenCounter _counter;
    private readonly int _endOfGeneration;

    public RetrievalTasks(BpeEncoder encoder, int endOfGeneration)
    {
        _encoder = encoder;
        _counter = new DelegateTokenCounter(text => encoder.Encode(text).Count);
        _endOfGeneration = endOfGeneration;
    }

    /// <summary>Smallest sample length worth drawing (the prompt's fixed text alone is ~60 tokens).</summary>
    public const int MinLength = 160;

    /// <summary>
    /// One sample of <paramref name="task"/> (niah, multi or vt) of at most <paramref name="space"/>
    /// tokens, aiming at <paramref name="length"/>: its tokens, and the index where the answer starts.
    /// Null when the task cannot fit a sample into the space.
    /// </summary>
    public (List<int> Tokens, int AnswerStart)? Draw(string task, ref SplitMix rng, int length, int space)
    {
        ulong seed = rng.NextULong();
        IEvalTask generator = task switch
        {
            "niah" => Niah(ref rng, multi: false),
            "multi" => Niah(ref rng, multi: true),
            "vt" => VariableTracking(ref rng, length),
            _ => throw new ArgumentException($"unknown retrieval task '{task}'"),
        };
        const int answerAllowance = 48;
        EvalSample sample;
        try
        {
            // The evaluation keeps MaxNewTokens free after the prompt; training fills the length.
            int request = Math.Min(length, space) - answerAllowance + generator.MaxNewTokens;
            sample = generator.Generate(new SampleRequest { Length = request, Seed = seed, Counter = _counter });
        }
        catch (SampleSizeException)
        {
            return null;
        }
        List<int> tokens = _encoder.Encode(sample.Input + sample.AnswerPrefix);
        int answerStart = tokens.Count;
        // Answers in the order the text gives them: a reader's order, and one the model can learn.
        var answers = new List<string>(sample.Answers);
        answers.Sort((a, b) => sample.Input.IndexOf(a, StringComparison.Ordinal).CompareTo(sample.Input.IndexOf(b, StringComparison.Ordinal)));
        string answer = task == "vt"
            ? string.Join(' ', answers)                       // the prefix ends in "they are: "
            : " " + string.Join(", ", answers) + ".";
        _encoder.Encode(answer, tokens);
        tokens.Add(_endOfGeneration);
        return tokens.Count <= space ? (tokens, answerStart) : null;
    }

    private static NiahTask Niah(ref SplitMix rng, bool multi)
    {
        HaystackKind haystack = Pick(ref rng, [HaystackKind.Noise, HaystackKind.Essay, HaystackKind.Needles], [0.35, 0.45, 0.2]);
        NeedleKind keyKind = Pick(ref rng, [NeedleKind.Words, NeedleKind.Numbers, NeedleKind.Uuids], [0.65, 0.15, 0.2]);
        NeedleKind valueKind = Pick(ref rng, [NeedleKind.Numbers, NeedleKind.Words, NeedleKind.Uuids], [0.5, 0.2, 0.3]);
        int keys = 1, values = 1, queries = 1;
        if (multi)
        {
            if (rng.NextDouble() < 0.5) values = 2 + rng.Next(3);
            else queries = 2 + rng.Next(3);
            keys = queries + rng.Next(3);
        }
        else if (rng.NextDouble() < 0.5)
        {
            keys = 2 + rng.Next(5);     // multi-key: distractor needles of the same kind
        }
        var options = new NiahOptions
        {
            Haystack = haystack,
            EssaySource = EssaySource.Prose,
            KeyKind = keyKind,
            ValueKind = valueKind,
            Keys = keys,
            ValuesPerKey = values,
            Queries = queries,
            NeedleFormat = NeedleFormats[rng.Next(NeedleFormats.Length)],
        };
        return new NiahTask(multi ? "multi" : "niah", options);
    }

    private static VariableTrackingTask VariableTracking(ref SplitMix rng, int length) => new("vt", new VariableTrackingOptions
    {
        Haystack = rng.NextDouble() < 0.6 ? HaystackKind.Noise : HaystackKind.Essay,
        EssaySource = EssaySource.Prose,
        Hops = 2 + rng.Next(4),
        Chains = rng.NextDouble() < 0.7 ? 1 : 2,
        // The evaluation's one-shot example takes ~700 tokens: short samples go without it.
        FewShot = length >= 1500 && rng.NextDouble() < 0.7,
    });

    private static T Pick<T>(ref SplitMix rng, T[] items, double[] weights)
    {
        double u = rng.NextDouble();
        for (int i = 0; i < items.Length - 1; i++)
        {
            u -= weights[i];
            if (u < 0) return items[i];
        }
        return items[^1];
    }
}
