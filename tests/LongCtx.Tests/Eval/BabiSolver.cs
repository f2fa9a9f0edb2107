using System.Text.RegularExpressions;

namespace LongCtx.Tests.Eval;

/// <summary>Replays the bAbI facts found in a BABILong-style sample and answers its question by bAbI's rules.</summary>
internal static class BabiSolver
{
    private const string Person = "(Mary|John|Daniel|Sandra|Bill|Fred|Jeff)";
    private const string Room = "(bathroom|bedroom|garden|hallway|kitchen|office)";
    private const string Thing = "(apple|football|milk)";

    public static string Solve(string task, string input)
    {
        string context = Regex.Match(input, "<context>\n(.*)\n</context>", RegexOptions.Singleline).Groups[1].Value;
        string question = Regex.Match(input, @"\nQuestion: (.+)$").Groups[1].Value;
        var facts = Regex.Matches(context,
            $@"{Person} (?:moved to|went to|journeyed to|travelled to|went back to) the {Room}\.|{Person} (?:picked up|got|grabbed|took) the {Thing} there\.|{Person} (?:dropped|discarded|put down|left) the {Thing}\.|{Person} (?:gave|handed|passed) the {Thing} to {Person}\.|The {Room} is (north|south|east|west) of the {Room}\.");
        var at = new Dictionary<string, string>();
        var holder = new Dictionary<string, string>();
        var objAt = new Dictionary<string, string>();
        var history = new Dictionary<string, List<string>>();
        var gives = new List<(string From, string Obj, string To)>();
        var relations = new List<(string A, string Dir, string B)>();
        void Place(string o, string room)
        {
            objAt[o] = room;
            var h = history.TryGetValue(o, out var l) ? l : history[o] = [];
            if (h.Count == 0 || h[^1] != room)
            {
                h.Add(room);
            }
        }
        foreach (Match f in facts)
        {
            GroupCollection g = f.Groups;
            if (g[1].Success)
            {
                at[g[1].Value] = g[2].Value;
                foreach (var (o, p) in holder.ToList())
                {
                    if (p == g[1].Value)
                    {
                        Place(o, g[2].Value);
                    }
                }
            }
            else if (g[3].Success)
            {
                holder[g[4].Value] = g[3].Value;
                Place(g[4].Value, at[g[3].Value]);
            }
            else if (g[5].Success)
            {
                holder.Remove(g[6].Value);
            }
            else if (g[7].Success)
            {
                holder[g[8].Value] = g[9].Value;
                gives.Add((g[7].Value, g[8].Value, g[9].Value));
            }
            else
            {
                relations.Add((g[10].Value, g[11].Value, g[12].Value));
            }
        }
        Match q;
        switch (task)
        {
            case "qa1":
                return at[Regex.Match(question, @"^Where is (\w+)\?$").Groups[1].Value];
            case "qa2":
                return objAt[Regex.Match(question, @"^Where is the (\w+)\?$").Groups[1].Value];
            case "qa3":
                q = Regex.Match(question, @"^Where was the (\w+) before the (\w+)\?$");
                var hist = history[q.Groups[1].Value];
                Assert.Equal(q.Groups[2].Value, hist[^1]);
                return hist[^2];
            case "qa4":
                if ((q = Regex.Match(question, @"^What is (\w+) of the (\w+)\?$")).Success)
                {
                    return relations.Single(r => r.Dir == q.Groups[1].Value && r.B == q.Groups[2].Value).A;
                }
                q = Regex.Match(question, @"^What is the (\w+) (\w+) of\?$");
                return relations.Single(r => r.A == q.Groups[1].Value && r.Dir == q.Groups[2].Value).B;
            case "qa5":
                var last = gives;
                if ((q = Regex.Match(question, @"^Who gave the (\w+) to (\w+)\?$")).Success)
                {
                    return last.Last(e => e.Obj == q.Groups[1].Value && e.To == q.Groups[2].Value).From;
                }
                if ((q = Regex.Match(question, @"^Who did (\w+) give the (\w+) to\?$")).Success)
                {
                    return last.Last(e => e.From == q.Groups[1].Value && e.Obj == q.Groups[2].Value).To;
                }
                if ((q = Regex.Match(question, @"^What did (\w+) give to (\w+)\?$")).Success)
                {
                    return last.Last(e => e.From == q.Groups[1].Value && e.To == q.Groups[2].Value).Obj;
                }
                if ((q = Regex.Match(question, @"^Who received the (\w+)\?$")).Success)
                {
                    return last.Last(e => e.Obj == q.Groups[1].Value).To;
                }
                q = Regex.Match(question, @"^Who gave the (\w+)\?$");
                return last.Last(e => e.Obj == q.Groups[1].Value).From;
            default:
                throw new ArgumentException(task);
        }
    }
}
