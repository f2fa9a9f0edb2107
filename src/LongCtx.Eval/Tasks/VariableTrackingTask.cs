using System.Globalization;
using LongCtx.Eval.Scoring;
using LongCtx.Eval.Text;

namespace LongCtx.Eval.Tasks;

/// <summary>Settings of RULER's variable tracking (variable_tracking.py arguments).</summary>
public sealed record VariableTrackingOptions
{
    /// <summary>Inserted chains (num_chains); the question is about the first.</summary>
    public int Chains { get; init; } = 1;
    /// <summary>Hops per chain (num_hops): a chain names hops + 1 variables.</summary>
    public int Hops { get; init; } = 4;
    /// <summary>Noise (RULER's default) or essay.</summary>
    public HaystackKind Haystack { get; init; } = HaystackKind.Noise;
    /// <summary>Source when <see cref="Haystack"/> is an essay.</summary>
    public EssaySource EssaySource { get; init; } = EssaySource.Licenses;
    /// <summary>Prepend one solved example, as RULER does.</summary>
    public bool FewShot { get; init; } = true;
    /// <summary>Tokens to generate (RULER: 30).</summary>
    public int MaxNewTokens { get; init; } = 30;
}

/// <summary>
/// RULER's vt: chains "VAR AAAAA = 12345", "VAR BBBBB = VAR AAAAA", ... hidden in noise; the
/// question asks for every variable that holds the value. Multi-hop tracing; string_match_all.
/// </summary>
public sealed class VariableTrackingTask : IEvalTask
{
    private const string Template = "Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n{context}\nQuestion: Find all variables that are assigned the value {query} in the text above.";
    // "assgined" is RULER's own spelling; kept so prompts match upstream.
    private const string Prefix = " Answer: According to the chain(s) of variable assignment in the text above, {num_v} variables are assgined the value {query}, they are: ";
    private const int FewShotNoiseSentences = 50;

    private readonly VariableTrackingOptions _o;

    /// <summary>Creates the task.</summary>
    /// <exception cref="ArgumentException">Chains or hops below 1, or a needle haystack (vt has none).</exception>
    public VariableTrackingTask(string name, VariableTrackingOptions options)
    {
        if (options.Chains < 1 || options.Hops < 1 || options.Haystack == HaystackKind.Needles)
        {
            throw new ArgumentException($"{name}: needs at least one chain and one hop, over a noise or essay haystack");
        }
        Name = name;
        _o = options;
    }

    /// <inheritdoc/>
    public string Name { get; }
    /// <inheritdoc/>
    public int MaxNewTokens => _o.MaxNewTokens;
    /// <inheritdoc/>
    public Metric Metric => Metric.StringMatchAll;
    /// <inheritdoc/>
    public double? Depth => null;

    /// <inheritdoc/>
    public EvalSample Generate(SampleRequest request)
    {
        var rng = new EvalRandom(request.Seed);
        (List<string[]> vars, List<string[]> chains) = MakeChains(rng, _o.Chains, _o.Hops, letters: 5);
        string value = chains[0][0].Split('=')[^1].Trim();
        string fewShot = "";
        if (_o.FewShot)
        {
            (List<string[]> exVars, List<string[]> exChains) = MakeChains(rng, _o.Chains, _o.Hops, letters: 3);
            string exValue = exChains[0][0].Split('=')[^1].Trim();
            string exContext = NoiseContext(Haystack.NoiseLines(FewShotNoiseSentences), exChains, rng);
            fewShot = Format(Template, exContext, exValue) + Format(Prefix, "", exValue) + " " + string.Join(' ', exVars[0]) + "\n\n";
        }
        ulong essaySeed = rng.NextUInt64(), placeSeed = rng.NextUInt64();
        string prefix = Format(Prefix, "", value);

        string Build(int units)
        {
            var place = new EvalRandom(placeSeed);
            string context;
            if (_o.Haystack == HaystackKind.Noise)
            {
                context = NoiseContext(Haystack.NoiseLines(units), chains, place);
            }
            else
            {
                List<string> sentences = Sentences.Split(EssayCorpus.Words(_o.EssaySource, essaySeed, units));
                List<string> flat = Interleave(chains, place);
                int[] slots = Haystack.RulerSentenceSlots(place, sentences.Count, flat.Count);
                context = string.Join(' ', Haystack.InsertAt(sentences, flat.Select(c => c.Trim() + ".").ToList(), slots));
            }
            return fewShot + Format(Template, context, value);
        }

        return SampleFitting.Fit(this, request, prefix, vars[0], Build);
    }

    private string Format(string template, string context, string value) =>
        template.Replace("{num_v}", (_o.Hops + 1).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{query}", value, StringComparison.Ordinal)
                .Replace("{context}", context, StringComparison.Ordinal);

    // RULER's generate_chains: distinct upper-case names; the first variable gets a 5-digit value.
    private static (List<string[]> Vars, List<string[]> Chains) MakeChains(EvalRandom rng, int chainCount, int hops, int letters)
    {
        var names = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (names.Count < chainCount * (hops + 1))
        {
            var c = new char[letters];
            for (int i = 0; i < letters; i++)
            {
                c[i] = (char)('A' + rng.Next(26));
            }
            string name = new(c);
            if (seen.Add(name))
            {
                names.Add(name);
            }
        }
        var vars = new List<string[]>();
        var chains = new List<string[]>();
        for (int ch = 0; ch < chainCount; ch++)
        {
            string[] v = names.GetRange(ch * (hops + 1), hops + 1).ToArray();
            var chain = new string[hops + 1];
            // np.random.randint(10000, 99999): high bound exclusive.
            chain[0] = $"VAR {v[0]} = {rng.NextInclusive(10000, 99998).ToString(CultureInfo.InvariantCulture)}";
            for (int j = 0; j < hops; j++)
            {
                chain[j + 1] = $"VAR {v[j + 1]} = VAR {v[j]} ";
            }
            vars.Add(v);
            chains.Add(chain);
        }
        return (vars, chains);
    }

    // Each chain's statements go in order at random lines, as RULER's noise branch.
    private static string NoiseContext(List<string> lines, List<string[]> chains, EvalRandom place)
    {
        foreach (string[] chain in chains)
        {
            int[] slots = Haystack.RandomSlots(place, lines.Count, chain.Length);
            lines = Haystack.InsertAt(lines, chain, slots);
        }
        return string.Join('\n', lines).Replace(". \n", ".\n", StringComparison.Ordinal);
    }

    // RULER's shuffle_sublists_heap: a random interleaving that keeps each chain's order.
    private static List<string> Interleave(List<string[]> chains, EvalRandom rng)
    {
        var next = new int[chains.Count];
        var result = new List<string>();
        int remaining = chains.Sum(c => c.Length);
        while (remaining > 0)
        {
            int pick = rng.Next(remaining);
            for (int c = 0; c < chains.Count; c++)
            {
                int left = chains[c].Length - next[c];
                if (pick < left)
                {
                    result.Add(chains[c][next[c]++]);
                    break;
                }
                pick -= left;
            }
            remaining--;
        }
        return result;
    }
}
