using LongCtx.Eval.Scoring;
using LongCtx.Eval.Text;

namespace LongCtx.Eval.Tasks;

/// <summary>Settings of a BABILong-style task.</summary>
public sealed record BabilongOptions
{
    /// <summary>bAbI task number, 1 to 5.</summary>
    public int Task { get; init; } = 1;
    /// <summary>Facts in the story; 0 = the task's default (qa1 8, qa2 16, qa3 24, qa4 2, qa5 16).</summary>
    public int Facts { get; init; }
    /// <summary>Source of the background text (BABILong: PG-19 books).</summary>
    public EssaySource EssaySource { get; init; } = EssaySource.Licenses;
    /// <summary>Tokens to generate.</summary>
    public int MaxNewTokens { get; init; } = 24;
}

/// <summary>
/// BABILong-style qa1–qa5: a bAbI-like story (people moving, objects carried, rooms related,
/// objects given) scattered in order between the sentences of long unrelated text; one question at
/// the end. BABILong's prompt layout and answer matching.
/// </summary>
public sealed class BabilongTask : IEvalTask
{
    private static readonly (string Instruction, string Examples, string PostPrompt)[] Prompts =
    [
        ("The context below hides facts about where people went inside unrelated text, followed by a question. Answer the question using only those facts. If a person was in several places, the latest one counts.",
         "<example>\nSandra went to the garden. Daniel moved to the office. Sandra travelled to the bedroom. Where is Sandra?\nAnswer: The most recent location of Sandra is bedroom.\n</example>\n\n<example>\nJohn journeyed to the hallway. Mary went to the kitchen. John moved to the bathroom. Where is Mary?\nAnswer: The most recent location of Mary is kitchen.\n</example>",
         "Always answer in the form: The most recent location of 'person' is 'location'. Do not write anything after that."),
        ("The context below hides facts about where people went and what they carried inside unrelated text, followed by a question. Answer the question using only those facts. An object a person holds moves with the person; an object a person dropped stays where it was dropped.",
         "<example>\nDaniel went to the office. Daniel grabbed the milk there. Daniel travelled to the garden. Where is the milk?\nAnswer: The milk is in the garden.\n</example>\n<example>\nMary picked up the apple there. Mary moved to the hallway. Mary dropped the apple. Mary went to the kitchen. Where is the apple?\nAnswer: The apple is in the hallway.\n</example>",
         "Always answer in the form: The 'object' is in 'location'. Do not write anything after that."),
        ("The context below hides facts about where people went and what they carried inside unrelated text, followed by a question. Answer the question using only those facts. An object a person holds moves with the person; an object a person dropped stays where it was dropped.",
         "<example>\nJohn went to the garden. John took the football there. John moved to the office. John journeyed to the kitchen. Where was the football before the kitchen?\nAnswer: Before the kitchen the football was in the office.\n</example>\n<example>\nSandra got the apple there. Sandra went to the hallway. Sandra travelled to the bathroom. Where was the apple before the bathroom?\nAnswer: Before the bathroom the apple was in the hallway.\n</example>",
         "Always answer in the form: Before the 'location_1' the 'object' was in the 'location_2'. Do not write anything after that."),
        ("The context below hides facts about how rooms are placed relative to each other inside unrelated text, followed by a question. Answer the question using only those facts.",
         "<example>\nThe office is east of the hallway. The garden is north of the hallway. What is east of the hallway?\nAnswer: office\n</example>\n<example>\nThe bedroom is south of the kitchen. The bathroom is west of the kitchen. What is the bedroom south of?\nAnswer: kitchen\n</example>",
         "Your answer should be one word: a location. Do not write anything else."),
        ("The context below hides facts about people moving and passing objects to each other inside unrelated text, followed by a question. Answer the question using only those facts.",
         "<example>\nJeff took the milk there. Jeff gave the milk to Bill. Fred went to the garden. Who did Jeff give the milk to?\nAnswer: Bill\n</example>\n<example>\nMary grabbed the football there. Mary handed the football to Fred. Bill moved to the office. Who gave the football?\nAnswer: Mary\n</example>\n<example>\nFred picked up the apple there. Fred passed the apple to Jeff. Jeff went to the kitchen. What did Fred give to Jeff?\nAnswer: apple\n</example>",
         "Your answer should be one word. Do not write anything else and do not explain."),
    ];

    private static readonly int[] DefaultFacts = [8, 16, 24, 2, 16];

    private readonly BabilongOptions _o;

    /// <summary>Creates the task.</summary>
    /// <exception cref="ArgumentException">A task number outside 1..5 or a negative fact count.</exception>
    public BabilongTask(string name, BabilongOptions options)
    {
        if (options.Task is < 1 or > 5 || options.Facts < 0)
        {
            throw new ArgumentException($"{name}: BABILong tasks here are qa1..qa5 with a non-negative fact count (got qa{options.Task}, {options.Facts} facts)");
        }
        Name = name;
        _o = options;
    }

    /// <inheritdoc/>
    public string Name { get; }
    /// <inheritdoc/>
    public int MaxNewTokens => _o.MaxNewTokens;
    /// <inheritdoc/>
    public Metric Metric => Metric.BabilongMatch;
    /// <inheritdoc/>
    public double? Depth => null;

    /// <inheritdoc/>
    public EvalSample Generate(SampleRequest request)
    {
        var rng = new EvalRandom(request.Seed);
        int facts = _o.Facts > 0 ? _o.Facts : DefaultFacts[_o.Task - 1];
        BabiStory story = BabiStories.Generate(_o.Task, facts, rng);
        ulong essaySeed = rng.NextUInt64(), placeSeed = rng.NextUInt64();
        var (instruction, examples, postPrompt) = Prompts[_o.Task - 1];
        const string prefix = " Answer:";

        string Build(int words)
        {
            List<string> sentences = Sentences.Split(EssayCorpus.Words(_o.EssaySource, essaySeed, words));
            // BABILong: facts keep their order, at uniformly random places between background sentences.
            int[] slots = Haystack.RandomSlots(new EvalRandom(placeSeed), sentences.Count, story.Facts.Count);
            string context = string.Join(' ', Haystack.InsertAt(sentences, story.Facts, slots));
            return $"{instruction}\n{examples}\n{postPrompt}\n<context>\n{context}\n</context>\nQuestion: {story.Question}";
        }

        return SampleFitting.Fit(this, request, prefix, [story.Answer], Build) with
        {
            Labels = BabiStories.Labels(_o.Task),
            Question = story.Question,
        };
    }
}
