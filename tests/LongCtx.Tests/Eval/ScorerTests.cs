using LongCtx.Eval.Scoring;
using LongCtx.Eval.Tasks;

namespace LongCtx.Tests.Eval;

/// <summary>RULER's and BABILong's metrics on hand-checked cases.</summary>
public sealed class ScorerTests
{
    [Theory]
    // all references present, any case
    [InlineData("The numbers are 1234567 and 7654321.", new[] { "1234567", "7654321" }, 1.0)]
    [InlineData("ANSWER: CURIOUS-LANTERN", new[] { "curious-lantern" }, 1.0)]
    // 3 of 4 found -> 0.75 (partial credit, not all-or-nothing)
    [InlineData("1111111, 2222222, 3333333", new[] { "1111111", "2222222", "3333333", "4444444" }, 0.75)]
    // substring match: a longer number containing the reference counts, as in RULER
    [InlineData("912345678", new[] { "1234567" }, 1.0)]
    [InlineData("", new[] { "1234567" }, 0.0)]
    // duplicates in the references count separately
    [InlineData("AAAAA", new[] { "AAAAA", "AAAAA", "BBBBB", "CCCCC" }, 0.5)]
    public void String_match_all_is_the_found_fraction(string prediction, string[] refs, double expected) =>
        Assert.Equal(expected, Scorer.StringMatchAll(prediction, refs), 12);

    [Theory]
    [InlineData("Velbridge", new[] { "Velbridge" }, 1.0)]
    [InlineData("He was born in velbridge.", new[] { "Velbridge", "Torford" }, 1.0)]
    [InlineData("Torford", new[] { "Velbridge", "Torford" }, 1.0)]
    [InlineData("Nowhere", new[] { "Velbridge", "Torford" }, 0.0)]
    public void String_match_part_is_any_found(string prediction, string[] refs, double expected) =>
        Assert.Equal(expected, Scorer.StringMatchPart(prediction, refs));

    [Fact]
    public void Task_score_averages_and_scales_to_percent_like_ruler()
    {
        // (1 + 0.5 + 0) / 3 * 100 = 50
        double all = Scorer.TaskScore(Metric.StringMatchAll, ["a b", "a", "z"], [["a", "b"], ["a", "b"], ["a"]]);
        Assert.Equal(50.0, all, 12);
        // part: (1 + 1 + 0) / 3 * 100
        double part = Scorer.TaskScore(Metric.StringMatchPart, ["a b", "a", "z"], [["a", "b"], ["a", "b"], ["a"]]);
        Assert.Equal(200.0 / 3, part, 12);
        Assert.Throws<ArgumentException>(() => Scorer.TaskScore(Metric.StringMatchAll, ["a"], []));
        Assert.Throws<ArgumentException>(() => Scorer.StringMatchAll("a", []));
    }

    [Theory]
    [InlineData("  1234567\u0000\u0007 ", "1234567")]
    [InlineData("\tfirst\u0001second\n", "first\nsecond")]
    [InlineData("plain", "plain")]
    public void Postprocess_is_rulers(string raw, string expected) => Assert.Equal(expected, Scorer.Postprocess(raw));

    [Theory]
    [InlineData("The most recent location of Mary is kitchen.", "kitchen", "Where is Mary?", 1.0)]
    // a second location in the first sentence makes it wrong
    [InlineData("Mary is in the kitchen or the garden.", "kitchen", "Where is Mary?", 0.0)]
    // only the first sentence counts
    [InlineData("The milk is in the office. Before that it was in the kitchen.", "office", "Where is the milk?", 1.0)]
    [InlineData("The milk is in the kitchen. It is not in the office.", "office", "Where is the milk?", 0.0)]
    // labels named in the question never count
    [InlineData("Before the kitchen the apple was in the garden.", "garden", "Where was the apple before the kitchen?", 1.0)]
    // generated examples after the answer are cut off
    [InlineData("bedroom<example>kitchen", "bedroom", "What is north of the office?", 1.0)]
    [InlineData("Fred", "Fred", "Who did Jeff give the milk to?", 1.0)]
    [InlineData("Jeff gave it to Fred", "Fred", "Who did Jeff give the milk to?", 1.0)]
    [InlineData("Bill", "Fred", "Who did Jeff give the milk to?", 0.0)]
    public void Babilong_match_is_compare_answers(string output, string target, string question, double expected)
    {
        string[] labels = target is "Fred" ? ["Bill", "Fred", "Jeff", "Mary", "apple", "football", "milk"]
            : ["bathroom", "bedroom", "garden", "hallway", "kitchen", "office"];
        Assert.Equal(expected, Scorer.BabilongMatch(output, target, question, labels));
    }

    [Fact]
    public void Score_postprocesses_then_applies_the_samples_metric()
    {
        var sample = new EvalSample
        {
            Task = "t", Length = 1, Index = 0, Seed = 0, Input = "", AnswerPrefix = "", Answers = ["1234567", "7654321"],
            Metric = Metric.StringMatchAll, MaxNewTokens = 1, PromptTokens = 0, TargetTokens = 0,
        };
        Assert.Equal(0.5, Scorer.Score(sample, " 1234567\u0000"));
        Assert.Equal(1.0, Scorer.Score(sample with { Metric = Metric.StringMatchPart }, "7654321"));
        Assert.Equal("string_match_all", Scorer.Name(Metric.StringMatchAll));
        Assert.Equal("string_match_part", Scorer.Name(Metric.StringMatchPart));
    }
}
