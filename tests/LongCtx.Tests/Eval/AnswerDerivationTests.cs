using System.Text.RegularExpressions;
using LongCtx.Eval.Tasks;

namespace LongCtx.Tests.Eval;

/// <summary>
/// Every expected answer follows from the sample's text: each task's answers are recomputed here by
/// an independent solver that reads only <see cref="EvalSample.Input"/>.
/// </summary>
public sealed class AnswerDerivationTests
{
    public static TheoryData<string, int, int> Cases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (string task in TaskCatalog.RulerNames.Concat(TaskCatalog.BabilongNames))
        {
            foreach (int index in new[] { 0, 1, 2, 3 })
            {
                data.Add(task, index % 2 == 0 ? 2048 : 4096, index);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Expected_answers_are_what_a_solver_reads_from_the_input(string task, int length, int index)
    {
        EvalSample s = GeneratorTests.Make(task, length, index);
        List<string> solved = task switch
        {
            _ when task.StartsWith("niah", StringComparison.Ordinal) => SolveNiah(s.Input),
            "vt" => SolveVariableTracking(s.Input),
            "cwe" => SolveCommonWords(s.Input),
            "fwe" => SolveFrequentWords(s.Input),
            "qa_1" or "qa_2" => [SolveQa(s.Input)],
            _ => [BabiSolver.Solve(task, s.Input)],
        };
        Assert.Equal(solved.Order(StringComparer.Ordinal), s.Answers.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Grid_needle_answer_is_in_the_text()
    {
        EvalSample s = GeneratorTests.Make("niah_depth_30", 4096);
        Assert.Equal(SolveNiah(s.Input), s.Answers);
    }

    // The question names the keys; every needle with one of those keys gives a value.
    private static List<string> SolveNiah(string input)
    {
        Match q = Regex.Match(input, @"\nWhat (?:is|are all) the special magic (\w+) for (.+) mentioned in the provided text\?$");
        Assert.True(q.Success, "question line");
        string type = q.Groups[1].Value;
        if (!type.EndsWith('s'))
        {
            type += "s";
        }
        string[] keys = q.Groups[2].Value.Replace(", and ", ", ", StringComparison.Ordinal).Split(", ");
        var values = new List<string>();
        foreach (string key in keys)
        {
            var found = Regex.Matches(input, $@"One of the special magic {type} for {Regex.Escape(key)} is: ([^ \n]+)\.(?=\s|$)");
            Assert.NotEmpty(found);
            values.AddRange(found.Select(m => m.Groups[1].Value));
        }
        return values;
    }

    // Follow assignments from the queried value through every VAR = VAR statement.
    private static List<string> SolveVariableTracking(string input)
    {
        string main = input[input.LastIndexOf("Memorize and track", StringComparison.Ordinal)..];
        string value = Regex.Match(main, @"assigned the value (\d+) in the text above\.$").Groups[1].Value;
        var assignments = Regex.Matches(main, @"VAR ([A-Z]+) = (VAR ([A-Z]+)|\d+)");
        var holders = new HashSet<string>();
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (Match m in assignments)
            {
                bool holds = m.Groups[3].Success ? holders.Contains(m.Groups[3].Value) : m.Groups[2].Value == value;
                if (holds && holders.Add(m.Groups[1].Value))
                {
                    changed = true;
                }
            }
        }
        return [.. holders];
    }

    // The ten most frequent entries of the last list, strictly above every other word.
    private static List<string> SolveCommonWords(string input)
    {
        string main = input[input.LastIndexOf("Below is a numbered list of words.", StringComparison.Ordinal)..];
        var counts = Regex.Matches(main, @"(?:^|\s)\d+\. ([a-z]+)").GroupBy(m => m.Groups[1].Value).Select(g => (Word: g.Key, N: g.Count()))
            .OrderByDescending(x => x.N).ToList();
        Assert.True(counts[9].N > counts[10].N, "the top ten stand apart");
        return counts.Take(10).Select(x => x.Word).ToList();
    }

    // The three most frequent coded words, ignoring the '...' noise.
    private static List<string> SolveFrequentWords(string input)
    {
        string context = Regex.Match(input, @"three most frequently appeared coded words\. (.*)\nQuestion:", RegexOptions.Singleline).Groups[1].Value;
        var counts = context.Split(' ').Where(w => w != "...").GroupBy(w => w).Select(g => (Word: g.Key, N: g.Count()))
            .OrderByDescending(x => x.N).ToList();
        Assert.True(counts[2].N > counts[3].N, "the top three stand apart");
        return counts.Take(3).Select(x => x.Word).ToList();
    }

    // Reads the documents and answers the question by the fact patterns, following one bridge for two-hop questions.
    private static string SolveQa(string input)
    {
        string question = Regex.Match(input, @"\nQuestion: (.+)$").Groups[1].Value;
        string[] docs = Regex.Split(input, @"\n\nDocument \d+:\n|\nDocument \d+:\n");
        string Single(string pattern)
        {
            var hits = docs.SelectMany(d => Regex.Matches(d, pattern).Select(m => m.Groups[1].Value)).Distinct().ToList();
            Assert.True(hits.Count == 1, $"exactly one answer for /{pattern}/, got {hits.Count}");
            return hits[0];
        }
        const string Name = @"([A-Z][a-z]+ [A-Z][a-z]+)";
        const string Org = @"([A-Z][a-z]+ [A-Z][a-z]+)";
        Match m;
        if ((m = Regex.Match(question, @"^Where was the founder of the (.+) born\?$")).Success)
        {
            string founder = Single($@"The {Regex.Escape(m.Groups[1].Value)} was founded in \d+ by {Name}\.");
            return Single($@"{Regex.Escape(founder)} was born in ([A-Z][a-z]+)");
        }
        if ((m = Regex.Match(question, @"^What was the profession of the person (.+) married\?$")).Success)
        {
            string spouse = Single($@"{Regex.Escape(m.Groups[1].Value)} married {Name}\.");
            return Single($@"{Regex.Escape(spouse)} worked as an? ([a-z]+)");
        }
        if ((m = Regex.Match(question, @"^In which town is the organization founded by (.+) based\?$")).Success)
        {
            string org = Single($@"{Regex.Escape(m.Groups[1].Value)} founded the {Org} in");
            return Single($@"The {Regex.Escape(org)} is based in ([A-Z][a-z]+)\.");
        }
        if ((m = Regex.Match(question, @"^Where was (.+) born\?$")).Success)
        {
            return Single($@"{Regex.Escape(m.Groups[1].Value)} was born in ([A-Z][a-z]+)");
        }
        if ((m = Regex.Match(question, @"^What was the profession of (.+)\?$")).Success)
        {
            return Single($@"{Regex.Escape(m.Groups[1].Value)} worked as an? ([a-z]+)");
        }
        if ((m = Regex.Match(question, @"^Which instrument did (.+) play\?$")).Success)
        {
            return Single($@"{Regex.Escape(m.Groups[1].Value)} played the ([a-z]+)\.");
        }
        if ((m = Regex.Match(question, @"^Which organization did (.+) found\?$")).Success)
        {
            return Single($@"{Regex.Escape(m.Groups[1].Value)} founded the {Org} in");
        }
        if ((m = Regex.Match(question, @"^Whom did (.+) marry\?$")).Success)
        {
            return Single($@"{Regex.Escape(m.Groups[1].Value)} married {Name}\.");
        }
        if ((m = Regex.Match(question, @"^Where did (.+) move later in life\?$")).Success)
        {
            return Single($@"{Regex.Escape(m.Groups[1].Value)} moved to ([A-Z][a-z]+)\.");
        }
        throw new Xunit.Sdk.XunitException($"unknown question form: {question}");
    }
}
