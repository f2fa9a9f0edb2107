using System.Globalization;
using LongCtx.Eval.Text;

namespace LongCtx.Eval.Tasks;

/// <summary>A generated document: a title (a person or an organization) and sentences, one fact each.</summary>
internal sealed record QaDocument(string Title, List<string> Sentences);

/// <summary>A question with its answer and the documents that hold the facts it needs.</summary>
internal sealed record QaQuestion(string Question, string Answer, List<QaDocument> Gold);

/// <summary>
/// A small invented world for qa_1/qa_2 (SQuAD and HotpotQA cannot be downloaded): people with
/// made-up surnames, towns, organizations, and short encyclopedic documents about them. Every name
/// is fresh within a sample, so only the gold documents mention the entities a question asks about.
/// </summary>
internal sealed class QaDocuments(EvalRandom rng)
{
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    private sealed record Person(string Name, string Town, string Profession, string Instrument, int Year);

    /// <summary>A single-hop question (SQuAD-like): its answer sits in one document.</summary>
    public QaQuestion SingleHop()
    {
        Person p = NewPerson();
        string home = NewTown(), org = NewOrganization(), spouse = NewName();
        var facts = new List<(string Sentence, string Question, string Answer)>
        {
            ($"{p.Name} was born in {p.Town} in {Year(p.Year)}.", $"Where was {p.Name} born?", p.Town),
            ($"{p.Name} worked as {A(p.Profession)} for many years.", $"What was the profession of {p.Name}?", p.Profession),
            ($"In the evenings, {p.Name} played the {p.Instrument}.", $"Which instrument did {p.Name} play?", p.Instrument),
            ($"{p.Name} founded the {org} in {Year(p.Year + 30)}.", $"Which organization did {p.Name} found?", org),
            ($"{p.Name} married {spouse}.", $"Whom did {p.Name} marry?", spouse),
            ($"Later in life, {p.Name} moved to {home}.", $"Where did {p.Name} move later in life?", home),
        };
        rng.Shuffle(facts);
        int keep = 3 + rng.Next(2);
        var doc = new QaDocument(p.Name, facts.Take(keep).Select(f => f.Sentence).ToList());
        var (_, question, answer) = facts[rng.Next(keep)];
        return new QaQuestion(question, answer, [doc]);
    }

    /// <summary>A two-hop question (HotpotQA-like bridge): the answer needs a fact from each of two documents.</summary>
    public QaQuestion TwoHop()
    {
        switch (rng.Next(3))
        {
            case 0:
            {
                // Where was the founder of ORG born?  ORG doc names the founder; the founder's doc gives the town.
                Person p = NewPerson();
                string org = NewOrganization(), seat = NewTown();
                var orgDoc = new QaDocument(org, [$"The {org} is based in {seat}.", $"The {org} was founded in {Year(p.Year + 25)} by {p.Name}.", OrgFiller(org)]);
                var personDoc = new QaDocument(p.Name, [$"{p.Name} was born in {p.Town}.", $"{p.Name} worked as {A(p.Profession)}.", $"{p.Name} played the {p.Instrument}."]);
                return new QaQuestion($"Where was the founder of the {org} born?", p.Town, [orgDoc, personDoc]);
            }
            case 1:
            {
                // What was the profession of the person P married?  P's doc names the spouse; the spouse's doc the profession.
                Person p = NewPerson(), q = NewPerson();
                var pDoc = new QaDocument(p.Name, [$"{p.Name} was born in {p.Town}.", $"{p.Name} married {q.Name}.", $"{p.Name} played the {p.Instrument}."]);
                var qDoc = new QaDocument(q.Name, [$"{q.Name} was born in {q.Town}.", $"{q.Name} worked as {A(q.Profession)}.", $"{q.Name} played the {q.Instrument}."]);
                return new QaQuestion($"What was the profession of the person {p.Name} married?", q.Profession, [pDoc, qDoc]);
            }
            default:
            {
                // In which town is the organization founded by P based?
                Person p = NewPerson();
                string org = NewOrganization(), seat = NewTown();
                var pDoc = new QaDocument(p.Name, [$"{p.Name} was born in {p.Town}.", $"{p.Name} founded the {org} in {Year(p.Year + 30)}.", $"{p.Name} worked as {A(p.Profession)}."]);
                var orgDoc = new QaDocument(org, [$"The {org} is based in {seat}.", OrgFiller(org), $"The {org} publishes a yearly report on {Plural(rng.Choice(WordLists.Nouns))}."]);
                return new QaQuestion($"In which town is the organization founded by {p.Name} based?", seat, [pDoc, orgDoc]);
            }
        }
    }

    /// <summary>A distractor document about a fresh person or organization (3 to 5 sentences).</summary>
    public QaDocument Distractor()
    {
        if (rng.Next(3) == 0)
        {
            string org = NewOrganization(), seat = NewTown();
            Person founder = NewPerson();
            var sentences = new List<string>
            {
                $"The {org} is based in {seat}.",
                $"The {org} was founded in {Year(founder.Year + 25)} by {founder.Name}.",
                OrgFiller(org),
                $"The {org} publishes a yearly report on {Plural(rng.Choice(WordLists.Nouns))}.",
                $"Its library holds a famous collection of {rng.Choice(WordLists.Adjectives)} {Plural(rng.Choice(WordLists.Nouns))}.",
            };
            return new QaDocument(org, sentences.Take(3 + rng.Next(3)).ToList());
        }
        Person p = NewPerson();
        var facts = new List<string>
        {
            $"{p.Name} was born in {p.Town} in {Year(p.Year)}.",
            $"{p.Name} worked as {A(p.Profession)} for many years.",
            $"In the evenings, {p.Name} played the {p.Instrument}.",
            $"{p.Name} founded the {NewOrganization()} in {Year(p.Year + 30)}.",
            $"{p.Name} married {NewName()}.",
            $"Later in life, {p.Name} moved to {NewTown()}.",
        };
        rng.Shuffle(facts);
        return new QaDocument(p.Name, facts.Take(3 + rng.Next(3)).ToList());
    }

    private string OrgFiller(string org) =>
        $"Members of the {org} meet every {rng.Choice(Months)} to discuss {Plural(rng.Choice(WordLists.Nouns))} and {Plural(rng.Choice(WordLists.Nouns))}.";

    private static readonly string[] Months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    private Person NewPerson() =>
        new(NewName(), NewTown(), rng.Choice(WordLists.Professions), rng.Choice(WordLists.Instruments), 1700 + rng.Next(250));

    private string NewName() => Fresh(() => rng.Choice(WordLists.FirstNames) + " " + WordLists.NameStem(rng));

    private string NewTown() => Fresh(() => WordLists.NameStem(rng) + rng.Choice(WordLists.PlaceSuffixes));

    private string NewOrganization() => Fresh(() => WordLists.NameStem(rng) + " " + rng.Choice(WordLists.Organizations));

    private string Fresh(Func<string> make)
    {
        while (true)
        {
            string s = make();
            if (_used.Add(s))
            {
                return s;
            }
        }
    }

    private static string A(string noun) => ("aeiou".Contains(noun[0]) ? "an " : "a ") + noun;

    private static string Plural(string noun) =>
        noun.EndsWith('y') && !"aeiou".Contains(noun[^2]) ? noun[..^1] + "ies"
        : noun.EndsWith('s') || noun.EndsWith('x') || noun.EndsWith("sh", StringComparison.Ordinal) || noun.EndsWith("ch", StringComparison.Ordinal) ? noun + "es"
        : noun + "s";

    private static string Year(int year) => year.ToString(CultureInfo.InvariantCulture);
}
