using LongCtx.Generation.Sampling;
using LongCtx.Reference;

namespace LongCtx.Tests.Generation;

/// <summary>
/// Each sampler against llama.cpp's own (<c>llama_sampler_init_*</c> in libllama) on the same
/// candidate list: the same candidates left, in the same order, with bit-identical logits and
/// probabilities; and whole chains drawing the same tokens from the same seed.
/// </summary>
public sealed class SamplerDifferentialTests
{
    // 300 candidates stay on llama.cpp's small-list paths; 5000 take its bucket sort and top-p's partial sort.
    public static TheoryData<int, int> Lists => new() { { 300, 1 }, { 300, 2 }, { 5000, 3 }, { 5000, 4 } };

    [Theory]
    [MemberData(nameof(Lists))]
    public void TopKMatchesLlamaCpp(int n, int seed)
    {
        foreach (int k in new[] { 1, 5, 40, 128, 129, 1000, n, n + 7 })
        {
            AssertSame(n, seed, sorted: false, () => new TopKSampler(k), c => c.TopK(k), $"top-k {k}");
        }
    }

    [Theory]
    [MemberData(nameof(Lists))]
    public void TopPMatchesLlamaCpp(int n, int seed)
    {
        foreach (float p in new[] { 0.01f, 0.3f, 0.5f, 0.9f, 0.95f, 0.999f, 0.99999f })
        {
            foreach (int minKeep in new[] { 0, 1, 10 })
            {
                foreach (bool sorted in new[] { false, true })
                {
                    AssertSame(n, seed, sorted, () => new TopPSampler(p, minKeep), c => c.TopP(p, minKeep), $"top-p {p} min_keep {minKeep} sorted {sorted}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Lists))]
    public void MinPMatchesLlamaCpp(int n, int seed)
    {
        foreach (float p in new[] { 0.001f, 0.05f, 0.1f, 0.5f, 0.9f, 1f })
        {
            foreach (int minKeep in new[] { 0, 3, 1000 })
            {
                foreach (bool sorted in new[] { false, true })
                {
                    AssertSame(n, seed, sorted, () => new MinPSampler(p, minKeep), c => c.MinP(p, minKeep), $"min-p {p} min_keep {minKeep} sorted {sorted}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Lists))]
    public void TemperatureMatchesLlamaCpp(int n, int seed)
    {
        foreach (float t in new[] { 0.1f, 0.7f, 0.8f, 1.3f, 2f, 10f })
        {
            AssertSame(n, seed, sorted: false, () => new TemperatureSampler(t), c => c.Temp(t), $"temp {t}");
            AssertSame(n, seed, sorted: false, () => new TemperatureSampler(t), c => c.TempExt(t), $"temp_ext {t}");
        }
    }

    [Theory]
    [MemberData(nameof(Lists))]
    public void PenaltiesMatchLlamaCpp(int n, int seed)
    {
        var random = new Random(seed);
        // History with repeats, longer than the window so that old tokens leave it.
        int[] history = Enumerable.Range(0, 150).Select(_ => random.Next(Math.Min(n, 60))).ToArray();
        var settings = new (int LastN, float Repeat, float Frequency, float Presence)[]
        {
            (64, 1.1f, 0f, 0f), (64, 1.3f, 0.2f, 0.5f), (16, 1f, 0.7f, 0f), (200, 1f, 0f, 1.5f), (1, 2f, -0.3f, -0.1f), (64, 0.8f, 0f, 0f),
        };
        foreach ((int lastN, float repeat, float frequency, float presence) in settings)
        {
            foreach (int accepted in new[] { 0, 1, 10, 150 })
            {
                AssertSame(n, seed, sorted: false, () => new PenaltySampler(n, lastN, repeat, frequency, presence),
                    c => c.Penalties(n, lastN, repeat, frequency, presence), $"penalties {lastN}/{repeat}/{frequency}/{presence} after {accepted}",
                    history[..accepted]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Lists))]
    public void LogitBiasMatchesLlamaCpp(int n, int seed)
    {
        var biases = new Dictionary<int, float> { [0] = 5f, [7] = -2.5f, [n - 1] = 3f, [n / 2] = float.NegativeInfinity, [42] = 0.25f };
        (int, float)[] list = [.. biases.OrderBy(b => b.Key).Select(b => (b.Key, b.Value))];
        AssertSame(n, seed, sorted: false, () => new LogitBiasSampler(n, biases), c => c.LogitBias(n, list), "logit bias");
        // Shuffled candidates take the search path in both.
        AssertSame(n, seed, sorted: false, () => new LogitBiasSampler(n, biases), c => c.LogitBias(n, list), "logit bias, shuffled", shuffle: true);
    }

    [Theory]
    [MemberData(nameof(Lists))]
    public void GreedyAndDistSelectAsLlamaCpp(int n, int seed)
    {
        AssertSame(n, seed, sorted: false, () => new GreedySampler(), c => c.Greedy(), "greedy");
        foreach (uint s in new uint[] { 0, 1, 42, 123456789, uint.MaxValue - 1 })
        {
            AssertSame(n, seed, sorted: false, () => new DistSampler(s), c => c.Dist(s), $"dist {s}");
        }
    }

    public static TheoryData<string> ChainSettings => new()
    {
        "defaults", "greedy", "pure-dist", "hot", "penalties", "top-p-only", "min-p-only", "bias", "tight",
    };

    /// <summary>Whole chains over 200 decode steps: the same tokens as llama.cpp's chain with the same seed.</summary>
    [Theory]
    [MemberData(nameof(ChainSettings))]
    public void ChainDrawsTheSameTokensAsLlamaCpp(string name)
    {
        const int vocab = 3000;
        const uint seed = 1234;
        SamplingOptions options = name switch
        {
            "defaults" => new() { Seed = seed },
            "greedy" => new() { Temperature = 0f, RepeatPenalty = 1.2f, Seed = seed },
            "pure-dist" => new() { TopK = 0, TopP = 1f, MinP = 0f, Temperature = 1f, Seed = seed },
            "hot" => new() { Temperature = 1.7f, TopK = 200, TopP = 0.99f, MinP = 0.01f, Seed = seed },
            "penalties" => new() { RepeatPenalty = 1.15f, FrequencyPenalty = 0.3f, PresencePenalty = 0.4f, PenaltyLastN = 32, Seed = seed },
            "top-p-only" => new() { TopK = 0, TopP = 0.8f, MinP = 0f, Seed = seed },
            "min-p-only" => new() { TopK = 0, TopP = 1f, MinP = 0.2f, Temperature = 1.1f, Seed = seed },
            "bias" => new() { LogitBias = new Dictionary<int, float> { [3] = 4f, [10] = float.NegativeInfinity }, Seed = seed },
            "tight" => new() { TopK = 5, TopP = 0.5f, MinP = 0.3f, MinKeep = 2, Temperature = 0.5f, Seed = seed },
            _ => throw new ArgumentException(name),
        };
        var ours = new SamplerChain(options, vocab);
        using LlamaSamplerChain theirs = LlamaChainLike(options, vocab);
        var random = new Random(99);
        var logits = new float[vocab];
        int[] prompt = [1, 2, 3, 2, 1];
        foreach (int t in prompt)
        {
            ours.Accept(t);
            theirs.Accept(t);
        }
        var tokens = new List<int>();
        for (int step = 0; step < 200; step++)
        {
            // Peaked rows (a few strong tokens, as a language model gives), with a bias towards recent tokens so that penalties matter.
            for (int i = 0; i < vocab; i++)
            {
                logits[i] = (float)(random.NextDouble() * 4 - 2);
            }
            for (int j = 0; j < 8; j++)
            {
                logits[random.Next(50)] += (float)(random.NextDouble() * 8);
            }
            int expected = theirs.Sample(logits);
            int actual = ours.Sample(logits);
            Assert.True(expected == actual, $"{name}: step {step} llama.cpp drew {expected}, we drew {actual}");
            ours.Accept(actual);
            theirs.Accept(expected);
            tokens.Add(actual);
        }
        // The rows are peaked but not degenerate: the chains had choices to make.
        Assert.True(tokens.Distinct().Count() > (name == "greedy" ? 5 : 10), $"{name}: only {tokens.Distinct().Count()} distinct tokens");

        // Reset repeats the run from the start.
        ours.Reset();
        theirs.Reset();
        foreach (int t in prompt)
        {
            ours.Accept(t);
        }
        random = new Random(99);
        for (int step = 0; step < 20; step++)
        {
            for (int i = 0; i < vocab; i++)
            {
                logits[i] = (float)(random.NextDouble() * 4 - 2);
            }
            for (int j = 0; j < 8; j++)
            {
                logits[random.Next(50)] += (float)(random.NextDouble() * 8);
            }
            int token = ours.Sample(logits);
            Assert.Equal(tokens[step], token);
            ours.Accept(token);
        }
    }

    /// <summary>llama.cpp's common sampler for the same options (common/sampling.cpp, default order, temp_ext for temperature).</summary>
    private static LlamaSamplerChain LlamaChainLike(SamplingOptions o, int vocab)
    {
        var chain = new LlamaSamplerChain();
        if (o.LogitBias is { Count: > 0 } bias)
        {
            chain.LogitBias(vocab, bias.Select(b => (b.Key, b.Value)).ToArray());
        }
        return chain
            .Penalties(vocab, o.PenaltyLastN, o.RepeatPenalty, o.FrequencyPenalty, o.PresencePenalty)
            .TopK(o.TopK)
            .TopP(o.TopP, o.MinKeep)
            .MinP(o.MinP, o.MinKeep)
            .TempExt(o.Temperature)
            .Dist(o.Seed!.Value);
    }

    private static void AssertSame(int n, int seed, bool sorted, Func<ISampler> ours, Action<LlamaSamplerChain> theirs, string what,
        int[]? accepted = null, bool shuffle = false)
    {
        TokenCandidate[] input = RandomCandidates(n, seed, sorted, shuffle);
        ISampler sampler = ours();
        using var chain = new LlamaSamplerChain();
        theirs(chain);
        foreach (int t in accepted ?? [])
        {
            sampler.Accept(t);
            chain.Accept(t);
        }
        var candidates = new Candidates(n);
        candidates.Load(input);
        candidates.Sorted = sorted;
        sampler.Apply(candidates);
        LlamaSamplerResult expected = chain.Apply(input.Select(c => new LlamaCandidate(c.Id, c.Logit, c.P)).ToArray(), sorted);

        Span<TokenCandidate> actual = candidates.Span;
        Assert.True(expected.Candidates.Length == actual.Length, $"{what}: llama.cpp kept {expected.Candidates.Length}, we kept {actual.Length}");
        for (int i = 0; i < actual.Length; i++)
        {
            LlamaCandidate e = expected.Candidates[i];
            TokenCandidate a = actual[i];
            Assert.True(e.Id == a.Id && BitEqual(e.Logit, a.Logit) && BitEqual(e.P, a.P),
                $"{what}: candidate {i}: llama.cpp ({e.Id}, {e.Logit:R}, p={e.P:R}), ours ({a.Id}, {a.Logit:R}, p={a.P:R})");
        }
        Assert.True(expected.Sorted == candidates.Sorted, $"{what}: llama.cpp sorted={expected.Sorted}, ours {candidates.Sorted}");
        Assert.True(expected.Selected == candidates.Selected, $"{what}: llama.cpp selected {expected.Selected}, ours {candidates.Selected}");
    }

    private static bool BitEqual(float a, float b) => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b);

    /// <summary>Distinct logits (no ties, whose order llama.cpp leaves to std::partial_sort) in [-12, 12], with a few strong ones.</summary>
    private static TokenCandidate[] RandomCandidates(int n, int seed, bool sorted, bool shuffle)
    {
        var random = new Random(seed);
        var seen = new HashSet<float>();
        var c = new TokenCandidate[n];
        for (int i = 0; i < n; i++)
        {
            float logit;
            do
            {
                logit = (float)(random.NextDouble() * 16 - 12) + (random.Next(20) == 0 ? 8f : 0f);
            }
            while (!seen.Add(logit));
            c[i] = new TokenCandidate(i, logit, 0f);
        }
        // An exact 0 tests the penalty's "logit <= 0 multiplies" boundary (token 5 is in the penalty history).
        if (seen.Add(0f))
        {
            c[5].Logit = 0f;
        }
        if (sorted)
        {
            Array.Sort(c, (a, b) => b.Logit.CompareTo(a.Logit));
        }
        else if (shuffle)
        {
            random.Shuffle(c);
        }
        return c;
    }
}
