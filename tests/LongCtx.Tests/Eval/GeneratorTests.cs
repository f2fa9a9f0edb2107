using LongCtx.Eval.Tasks;
using LongCtx.Eval.Text;

namespace LongCtx.Tests.Eval;

/// <summary>Every generator: fitted length, determinism by seed, and the held-out variants.</summary>
public sealed class GeneratorTests
{
    private static readonly PieceCounter Counter = new();

    public static TheoryData<string, int> AllTasksAndLengths()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in TaskCatalog.RulerNames.Concat(TaskCatalog.BabilongNames).Append("niah_depth_50"))
        {
            data.Add(name, 4096);
            data.Add(name, 8192);
        }
        return data;
    }

    internal static EvalSample Make(string task, int length, int index = 0, ulong runSeed = 42, CatalogOptions? options = null, int overhead = 0) =>
        TaskCatalog.Get(task, options).Generate(new SampleRequest
        {
            Length = length,
            Index = index,
            Seed = TaskCatalog.SampleSeed(runSeed, task, length, index),
            Counter = Counter,
            PromptOverhead = overhead,
        });

    [Theory]
    [MemberData(nameof(AllTasksAndLengths))]
    public void Sample_fills_its_token_budget_within_one_percent(string task, int length)
    {
        EvalSample s = Make(task, length, overhead: 7);
        Assert.Equal(length - s.MaxNewTokens - 7, s.TargetTokens);
        Assert.Equal(Counter.Count(s.Input + s.AnswerPrefix), s.PromptTokens);
        Assert.InRange(s.PromptTokens, (int)Math.Ceiling(0.99 * s.TargetTokens), s.TargetTokens);
        Assert.NotEmpty(s.Answers);
        Assert.All(s.Answers, a => Assert.False(string.IsNullOrWhiteSpace(a)));
    }

    [Theory]
    [MemberData(nameof(AllTasksAndLengths))]
    public void Same_seed_gives_the_same_sample_and_another_seed_another(string task, int length)
    {
        if (length != 4096)
        {
            return;  // one length is enough here
        }
        EvalSample a = Make(task, length), b = Make(task, length);
        Assert.Equal(a.Input, b.Input);
        Assert.Equal(a.AnswerPrefix, b.AnswerPrefix);
        Assert.Equal(a.Answers, b.Answers);
        Assert.Equal(a.Seed, b.Seed);

        EvalSample other = Make(task, length, index: 1), otherRun = Make(task, length, runSeed: 43);
        Assert.NotEqual(a.Input, other.Input);
        Assert.NotEqual(a.Input, otherRun.Input);
        Assert.NotEqual(a.Seed, other.Seed);
    }

    [Fact]
    public void Samples_fit_short_lengths_within_one_percent_too()
    {
        foreach (string task in TaskCatalog.RulerNames.Concat(TaskCatalog.BabilongNames))
        {
            EvalSample s = Make(task, 1024);
            Assert.InRange(s.PromptTokens, (int)Math.Ceiling(0.99 * s.TargetTokens), s.TargetTokens);
        }
    }

    [Fact]
    public void A_length_too_short_for_the_fixed_parts_is_a_named_error()
    {
        var e = Assert.Throws<SampleSizeException>(() => Make("cwe", 200));
        Assert.Contains("cwe", e.Message);
        Assert.Contains("budget", e.Message);
    }

    [Fact]
    public void Unknown_task_names_list_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => TaskCatalog.Get("niah_single_9"));
        Assert.Contains("niah_single_9", e.Message);
        Assert.Contains("qa_2", e.Message);
    }

    [Fact]
    public void Held_out_essay_source_and_needle_format_change_the_haystack_and_the_needle()
    {
        var heldOut = new CatalogOptions { EssaySource = EssaySource.Prose, NeedleFormat = "The secret {type} of {key} is {value}." };
        EvalSample normal = Make("niah_single_2", 4096), variant = Make("niah_single_2", 4096, options: heldOut);
        Assert.Contains("One of the special magic numbers for", normal.Input);
        Assert.DoesNotContain("One of the special magic numbers for", variant.Input);
        Assert.Contains($"The secret numbers of ", variant.Input);
        Assert.Contains("GNU", normal.Input);
        Assert.DoesNotContain("GNU", variant.Input);
        Assert.Contains(variant.Answers[0], variant.Input);
    }

    [Fact]
    public void Needle_format_without_key_or_value_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => new NiahTask("bad", new NiahOptions { NeedleFormat = "no placeholders" }));
        Assert.Throws<ArgumentException>(() => new NiahTask("bad", new NiahOptions { Keys = 4, Depth = 50 }));
    }

    [Fact]
    public void Ruler_single_needle_prompts_use_the_singular_wording()
    {
        EvalSample single = Make("niah_single_1", 4096), multi = Make("niah_multivalue", 4096);
        Assert.StartsWith("A special magic number is hidden within the following text. Make sure to memorize it. I will quiz you about the number afterwards.\n", single.Input);
        Assert.Matches(@"\nWhat is the special magic number for [a-z]+-[a-z]+ mentioned in the provided text\?$", single.Input);
        Assert.Matches(@"^ The special magic number for [a-z]+-[a-z]+ mentioned in the provided text is$", single.AnswerPrefix);
        Assert.StartsWith("Some special magic numbers are hidden", multi.Input);
        Assert.EndsWith("mentioned in the provided text are", multi.AnswerPrefix);
        Assert.Equal(4, multi.Answers.Count);
    }

    [Fact]
    public void Noise_haystack_is_rulers_repeated_line()
    {
        EvalSample s = Make("niah_single_1", 4096);
        Assert.Contains("\nThe grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.\n", s.Input);
        Assert.Matches(@"One of the special magic numbers for [a-z]+-[a-z]+ is: \d{7}\.", s.Input);
    }

    [Fact]
    public void Uuid_needles_are_version_4()
    {
        EvalSample s = Make("niah_multikey_3", 4096);
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", s.Answers[0]);
    }

    [Fact]
    public void Prose_is_grammatical_looking_and_endless()
    {
        string[] words = EssayCorpus.Words(EssaySource.Prose, 7, 5000);
        Assert.Equal(5000, words.Length);
        Assert.Equal(words.Take(100), EssayCorpus.Words(EssaySource.Prose, 7, 100));
        List<string> sentences = Sentences.Split(words);
        Assert.True(sentences.Count > 200);
        Assert.All(sentences.Take(sentences.Count - 1), s => Assert.Matches(@"^[A-Z][a-z ,\-]+\.$", s));
    }

    [Fact]
    public void License_texts_are_the_debian_ones_and_wrap_around()
    {
        int n = EssayCorpus.LicenseWordCount;
        Assert.InRange(n, 15_000, 20_000);
        string[] words = EssayCorpus.Words(EssaySource.Licenses, 3, n + 10);
        Assert.Equal(words.Take(10), words.Skip(n).Take(10));
        Assert.Equal(EssaySource.Prose, EssayCorpus.Parse("Prose"));
        Assert.Throws<ArgumentException>(() => EssayCorpus.Parse("pg19"));
    }
}
