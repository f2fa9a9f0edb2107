namespace LongCtx.Eval.Tasks;

/// <summary>A bAbI-style story: facts in order, a question and its one-word answer.</summary>
internal sealed record BabiStory(List<string> Facts, string Question, string Answer);

/// <summary>
/// Generates bAbI-like stories for BABILong's qa1–qa5 (the bAbI files cannot be downloaded): a
/// small world of people, rooms and objects simulated step by step, so every answer follows from
/// the facts by bAbI's rules.
/// </summary>
internal static class BabiStories
{
    public static readonly string[] People = ["Mary", "John", "Daniel", "Sandra"];
    public static readonly string[] GivePeople = ["Bill", "Fred", "Jeff", "Mary"];
    public static readonly string[] Locations = ["bathroom", "bedroom", "garden", "hallway", "kitchen", "office"];
    public static readonly string[] Objects = ["apple", "football", "milk"];

    private static readonly string[] Moves = ["moved to", "went to", "journeyed to", "travelled to", "went back to"];
    private static readonly string[] Takes = ["picked up", "got", "grabbed", "took"];
    private static readonly string[] Drops = ["dropped", "discarded", "put down", "left"];
    private static readonly string[] Gives = ["gave", "handed", "passed"];
    private static readonly (string Dir, string Opposite)[] Directions = [("north", "south"), ("south", "north"), ("east", "west"), ("west", "east")];

    /// <summary>Candidate answers of a task, for BABILong's scoring.</summary>
    public static string[] Labels(int task) => task == 5 ? [.. GivePeople, .. Objects] : Locations;

    /// <summary>A story for bAbI task <paramref name="task"/> (1–5) with about <paramref name="facts"/> facts.</summary>
    public static BabiStory Generate(int task, int facts, EvalRandom rng)
    {
        for (int attempt = 0; ; attempt++)
        {
            BabiStory? story = task switch
            {
                1 => SingleFact(facts, rng),
                2 => TwoFacts(facts, rng),
                3 => ThreeFacts(facts, rng),
                4 => TwoArgRelations(rng),
                5 => ThreeArgRelations(facts, rng),
                _ => throw new ArgumentOutOfRangeException(nameof(task), task, "BABILong tasks here are qa1..qa5"),
            };
            if (story is not null)
            {
                return story;
            }
            if (attempt > 1000)
            {
                throw new InvalidOperationException($"could not generate a qa{task} story with {facts} facts");
            }
        }
    }

    // qa1: where is P? The last move of P answers it.
    private static BabiStory SingleFact(int facts, EvalRandom rng)
    {
        var where = new Dictionary<string, string>();
        var list = new List<string>();
        for (int i = 0; i < facts; i++)
        {
            string p = rng.Choice(People);
            string to = OtherThan(rng, Locations, where.GetValueOrDefault(p));
            where[p] = to;
            list.Add($"{p} {rng.Choice(Moves)} the {to}.");
        }
        string asked = rng.Choice(where.Keys.Order(StringComparer.Ordinal).ToList());
        return new BabiStory(list, $"Where is {asked}?", where[asked]);
    }

    // qa2: where is the object? The holder's location, or where it was dropped.
    private static BabiStory? TwoFacts(int facts, EvalRandom rng)
    {
        var w = new World(rng);
        w.Run(facts, allowGive: false, People);
        // Prefer objects whose answer needs the holder's later move (two supporting facts).
        var known = w.ObjectLocation.Keys.Order(StringComparer.Ordinal).ToList();
        if (known.Count == 0)
        {
            return null;
        }
        string o = rng.Choice(known);
        return new BabiStory(w.Facts, $"Where is the {o}?", w.ObjectLocation[o]);
    }

    // qa3: where was the object before its current room? Needs the pick-up, a move and the earlier room.
    private static BabiStory? ThreeFacts(int facts, EvalRandom rng)
    {
        var w = new World(rng);
        w.Run(facts, allowGive: false, People);
        var candidates = w.History.Where(h => h.Value.Count >= 2 && h.Value.Count(l => l == h.Value[^1]) == 1)
            .Select(h => h.Key).Order(StringComparer.Ordinal).ToList();
        if (candidates.Count == 0)
        {
            return null;
        }
        string o = rng.Choice(candidates);
        List<string> history = w.History[o];
        return new BabiStory(w.Facts, $"Where was the {o} before the {history[^1]}?", history[^2]);
    }

    // qa4: two-argument relations between rooms, asked in either direction.
    private static BabiStory TwoArgRelations(EvalRandom rng)
    {
        int[] rooms = rng.Sample(Locations.Length, 3);
        string a = Locations[rooms[0]], b = Locations[rooms[1]], c = Locations[rooms[2]];
        var d1 = rng.Choice(Directions);
        var d2 = rng.Choice(Directions.Where(d => d.Dir != d1.Dir).ToList());
        var facts = new List<string> { $"The {a} is {d1.Dir} of the {b}.", $"The {c} is {d2.Dir} of the {b}." };
        rng.Shuffle(facts);
        return rng.Next(2) == 0
            ? new BabiStory(facts, $"What is {d1.Dir} of the {b}?", a)
            : new BabiStory(facts, $"What is the {a} {d1.Dir} of?", b);
    }

    // qa5: giving objects between people; questions about the giver, receiver or object of a give.
    private static BabiStory? ThreeArgRelations(int facts, EvalRandom rng)
    {
        var w = new World(rng);
        w.Run(facts, allowGive: true, GivePeople);
        if (w.GiveEvents.Count == 0)
        {
            return null;
        }
        var (g, o, r) = w.GiveEvents[^1];
        var options = new List<(string Q, string A)>();
        if (w.GiveEvents.Where(e => e.Obj == o && e.To == r).All(e => e.From == g))
        {
            options.Add(($"Who gave the {o} to {r}?", g));
        }
        if (w.GiveEvents.Where(e => e.From == g && e.Obj == o).All(e => e.To == r))
        {
            options.Add(($"Who did {g} give the {o} to?", r));
        }
        if (w.GiveEvents.Where(e => e.From == g && e.To == r).All(e => e.Obj == o))
        {
            options.Add(($"What did {g} give to {r}?", o));
        }
        if (w.GiveEvents.Where(e => e.Obj == o).All(e => e.To == r))
        {
            options.Add(($"Who received the {o}?", r));
        }
        if (w.GiveEvents.Where(e => e.Obj == o).All(e => e.From == g))
        {
            options.Add(($"Who gave the {o}?", g));
        }
        if (options.Count == 0)
        {
            return null;
        }
        var (question, answer) = rng.Choice(options);
        return new BabiStory(w.Facts, question, answer);
    }

    private static string OtherThan(EvalRandom rng, string[] items, string? current)
    {
        while (true)
        {
            string s = rng.Choice(items);
            if (s != current)
            {
                return s;
            }
        }
    }

    /// <summary>People moving, taking, dropping and giving objects, with bAbI's rules.</summary>
    private sealed class World(EvalRandom rng)
    {
        public readonly List<string> Facts = [];
        public readonly Dictionary<string, string> PersonLocation = [];
        public readonly Dictionary<string, string> Holder = [];            // object -> person
        public readonly Dictionary<string, string> ObjectLocation = [];    // object -> room, once known
        public readonly Dictionary<string, List<string>> History = [];     // object -> rooms it has been in
        public readonly List<(string From, string Obj, string To)> GiveEvents = [];

        public void Run(int facts, bool allowGive, string[] people)
        {
            while (Facts.Count < facts)
            {
                string p = rng.Choice(people);
                int action = rng.Next(allowGive ? 4 : 3);
                if (action == 0 || !PersonLocation.ContainsKey(p))
                {
                    Move(p, OtherThan(rng, Locations, PersonLocation.GetValueOrDefault(p)));
                    continue;
                }
                string here = PersonLocation[p];
                var held = Holder.Where(h => h.Value == p).Select(h => h.Key).Order(StringComparer.Ordinal).ToList();
                if (action == 1)
                {
                    // Take an object that is free and either never seen or lying in this room.
                    var free = Objects.Where(o => !Holder.ContainsKey(o) && (!ObjectLocation.TryGetValue(o, out string? at) || at == here)).ToList();
                    if (free.Count > 0)
                    {
                        string o = rng.Choice(free);
                        Holder[o] = p;
                        Place(o, here);
                        Facts.Add($"{p} {rng.Choice(Takes)} the {o} there.");
                    }
                }
                else if (action == 2 && held.Count > 0)
                {
                    string o = rng.Choice(held);
                    Holder.Remove(o);
                    Facts.Add($"{p} {rng.Choice(Drops)} the {o}.");
                }
                else if (action == 3 && held.Count > 0)
                {
                    // The receiver comes to the giver's room first, so the give is possible.
                    string r = OtherThan(rng, people, p);
                    if (PersonLocation.GetValueOrDefault(r) != here)
                    {
                        Move(r, here);
                    }
                    if (Facts.Count < facts)
                    {
                        string o = rng.Choice(held);
                        Holder[o] = r;
                        GiveEvents.Add((p, o, r));
                        Facts.Add($"{p} {rng.Choice(Gives)} the {o} to {r}.");
                    }
                }
            }
        }

        private void Move(string p, string to)
        {
            PersonLocation[p] = to;
            Facts.Add($"{p} {rng.Choice(Moves)} the {to}.");
            foreach (var (o, holder) in Holder)
            {
                if (holder == p)
                {
                    Place(o, to);
                }
            }
        }

        private void Place(string o, string room)
        {
            ObjectLocation[o] = room;
            if (!History.TryGetValue(o, out List<string>? h))
            {
                History[o] = h = [];
            }
            if (h.Count == 0 || h[^1] != room)
            {
                h.Add(room);
            }
        }
    }
}
