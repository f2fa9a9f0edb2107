using System.Globalization;
using System.Text;
using LongCtx.Eval.Scoring;

namespace LongCtx.Eval.Tasks;

/// <summary>Settings of the generated QA tasks.</summary>
public sealed record QaOptions
{
    /// <summary>Two-hop questions (qa_2, HotpotQA-like) instead of single-hop ones (qa_1, SQuAD-like).</summary>
    public bool TwoHop { get; init; }
    /// <summary>Tokens to generate (RULER: 32).</summary>
    public int MaxNewTokens { get; init; } = 32;
}

/// <summary>
/// RULER's qa_1 / qa_2 over generated documents: a question whose answer sits in one (qa_1) or
/// needs two (qa_2) of many short documents about invented people and organizations, the rest
/// being distractors of the same kind. RULER's prompt and string_match_part scoring.
/// </summary>
public sealed class QaTask : IEvalTask
{
    private const string Instruction = "Answer the question based on the given documents. Only give me the answer and do not output any other words.";
    private const string Prefix = " Answer:";

    private readonly QaOptions _o;

    /// <summary>Creates the task.</summary>
    public QaTask(string name, QaOptions options)
    {
        Name = name;
        _o = options;
    }

    /// <inheritdoc/>
    public string Name { get; }
    /// <inheritdoc/>
    public int MaxNewTokens => _o.MaxNewTokens;
    /// <inheritdoc/>
    public Metric Metric => Metric.StringMatchPart;
    /// <inheritdoc/>
    public double? Depth => null;

    /// <inheritdoc/>
    public EvalSample Generate(SampleRequest request)
    {
        var rng = new EvalRandom(request.Seed);
        ulong worldSeed = rng.NextUInt64(), placeSeed = rng.NextUInt64();
        QaQuestion question = NewWorld(worldSeed, out _);

        (string Input, QaQuestion Q) Build(int sentences)
        {
            QaQuestion q = NewWorld(worldSeed, out QaDocuments world);
            var docs = new List<QaDocument>(q.Gold);
            int left = sentences;
            while (left > 0)
            {
                QaDocument d = world.Distractor();
                if (d.Sentences.Count > left)
                {
                    d = d with { Sentences = d.Sentences.GetRange(0, left) };
                }
                docs.Add(d);
                left -= d.Sentences.Count;
            }
            new EvalRandom(placeSeed).Shuffle(docs);
            var context = new StringBuilder();
            for (int i = 0; i < docs.Count; i++)
            {
                if (i > 0)
                {
                    context.Append("\n\n");
                }
                // RULER's DOCUMENT_PROMPT; HotpotQA documents carry their title on the first line.
                context.Append("Document ").Append((i + 1).ToString(CultureInfo.InvariantCulture)).Append(":\n");
                if (_o.TwoHop)
                {
                    context.Append(docs[i].Title).Append('\n');
                }
                context.AppendJoin(' ', docs[i].Sentences);
            }
            string input = Instruction + "\n\nThe following are given documents.\n\n" + context + "\n\n" + Instruction + "\n\nQuestion: " + q.Question;
            return (input, q);
        }

        return SampleFitting.Fit(this, request, Prefix, 0, Build, b => b.Input, _ => [question.Answer]) with { Question = question.Question };
    }

    // The question is drawn first, so its names are reserved before any distractor is made.
    private QaQuestion NewWorld(ulong seed, out QaDocuments world)
    {
        world = new QaDocuments(new EvalRandom(seed));
        return _o.TwoHop ? world.TwoHop() : world.SingleHop();
    }
}
