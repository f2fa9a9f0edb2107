using LongCtx.Generation;
using LongCtx.Generation.Sampling;

namespace LongCtx.Tests.Generation;

/// <summary>What each sampler promises, checked on distributions where the answer is known, plus options, seeds and allocation.</summary>
public sealed class SamplingTests
{
    /// <summary>Only temperature and the draw: the distribution is exactly softmax(logits / T).</summary>
    private static SamplingOptions Plain(float temperature = 1f, uint seed = 7) =>
        new() { Temperature = temperature, TopK = 0, TopP = 1f, MinP = 0f, Seed = seed };

    [Fact]
    public void GreedyIsArgmax()
    {
        var random = new Random(3);
        var chain = new SamplerChain(SamplingOptions.Greedy, 1000);
        Assert.Null(chain.Seed);
        var logits = new float[1000];
        for (int trial = 0; trial < 200; trial++)
        {
            for (int i = 0; i < logits.Length; i++)
            {
                logits[i] = (float)(random.NextDouble() * 20 - 10);
            }
            Assert.Equal(Greedy.Argmax(logits), chain.Sample(logits));
        }
        // Ties: the lowest id, as llama.cpp's greedy sampler over candidates in id order.
        Array.Fill(logits, 1f);
        logits[17] = 5f;
        logits[400] = 5f;
        Assert.Equal(17, chain.Sample(logits));
    }

    [Fact]
    public void TopKNeverEmitsAnExcludedToken()
    {
        // Logits 0..-99 by id: the top 5 are ids 0..4.
        float[] logits = [.. Enumerable.Range(0, 100).Select(i => -0.05f * i)];
        int[] counts = Draw(Plain() with { TopK = 5 }, logits, 4000);
        Assert.Equal(0, counts.Skip(5).Sum());
        Assert.All(counts.Take(5), c => Assert.True(c > 500, $"a kept token was drawn only {c} times"));
    }

    [Fact]
    public void TopPNeverEmitsAnExcludedToken()
    {
        // p = 0.5, 0.3, 0.15, then 0.05 spread over 50 tokens: top-p 0.9 keeps exactly the first three (cumulative 0.95).
        float[] probs = [0.5f, 0.3f, 0.15f, .. Enumerable.Repeat(0.05f / 50, 50)];
        int[] counts = Draw(Plain() with { TopP = 0.9f }, Logits(probs), 4000);
        Assert.Equal(0, counts.Skip(3).Sum());
        Assert.All(counts.Take(3), c => Assert.True(c > 300));
        // The kept ones are renormalised: 0.5/0.95 of the draws go to token 0.
        Assert.InRange(counts[0] / 4000.0, 0.5 / 0.95 - 0.03, 0.5 / 0.95 + 0.03);
    }

    [Fact]
    public void MinPNeverEmitsAnExcludedToken()
    {
        // min-p 0.2 of the best (0.4) is 0.08: 0.4, 0.3, 0.1 stay; 0.07 and below go.
        float[] probs = [0.3f, 0.07f, 0.4f, 0.05f, 0.1f, 0.08f * 0.99f, .. Enumerable.Repeat(0.0002f, 10)];
        int[] counts = Draw(Plain() with { MinP = 0.2f }, Logits(probs), 4000);
        Assert.Equal(counts.Sum(), counts[0] + counts[2] + counts[4]);
        Assert.All(new[] { counts[0], counts[2], counts[4] }, c => Assert.True(c > 300));
    }

    [Theory]
    [InlineData(0.5f)]
    [InlineData(1f)]
    [InlineData(2f)]
    public void TemperatureDrawsFollowSoftmaxOfLogitsOverT(float temperature)
    {
        float[] logits = [2f, 1f, 0.5f, 0f, -1f, -2f];
        const int draws = 40_000;
        int[] counts = Draw(Plain(temperature, seed: 11), logits, draws);
        double[] expected = Softmax(logits.Select(l => (double)l / temperature).ToArray());
        for (int i = 0; i < logits.Length; i++)
        {
            double observed = counts[i] / (double)draws;
            double sigma = Math.Sqrt(expected[i] * (1 - expected[i]) / draws);
            Assert.True(Math.Abs(observed - expected[i]) < 5 * sigma + 1e-3,
                $"T={temperature}, token {i}: observed {observed:F4}, softmax(logits/T) {expected[i]:F4}");
        }
        // Sharper when colder, flatter when hotter: the best token's share moves with 1/T.
        double bestAtOne = Softmax(logits.Select(l => (double)l).ToArray())[0];
        Assert.True(temperature < 1 ? counts[0] / (double)draws > bestAtOne : temperature > 1 ? counts[0] / (double)draws < bestAtOne : true);
    }

    [Fact]
    public void SameSeedSameTokensOtherSeedOtherTokens()
    {
        float[] logits = [.. Enumerable.Range(0, 50).Select(i => (float)Math.Sin(i))];
        int[] RunWith(uint seed)
        {
            var chain = new SamplerChain(new SamplingOptions { Seed = seed, TopK = 0, TopP = 1f, MinP = 0f, RepeatPenalty = 1.1f }, logits.Length);
            var tokens = new int[100];
            for (int i = 0; i < tokens.Length; i++)
            {
                tokens[i] = chain.Sample(logits);
                chain.Accept(tokens[i]);
            }
            return tokens;
        }
        Assert.Equal(RunWith(5), RunWith(5));
        Assert.NotEqual(RunWith(5), RunWith(6));
        Assert.NotEqual(RunWith(0), RunWith(uint.MaxValue));
        // Without a seed the chain picks one and reports it; that seed repeats the run.
        var unseeded = new SamplerChain(new SamplingOptions(), logits.Length);
        Assert.NotNull(unseeded.Seed);
    }

    [Fact]
    public void PenaltiesChangeLogitsAsDefined()
    {
        var penalties = new PenaltySampler(vocabSize: 10, lastN: 4, repeat: 1.5f, frequency: 0.25f, presence: 0.5f);
        foreach (int t in new[] { 9, 1, 2, 1, 3 })
        {
            penalties.Accept(t); // the window keeps the last 4: 1, 2, 1, 3 (9 has left it)
        }
        Assert.Equal((0, 2, 1, 1), (penalties.Count(9), penalties.Count(1), penalties.Count(2), penalties.Count(3)));
        var candidates = new Candidates(10);
        candidates.Load([4f, 3f, -2f, 0f, 1f, 5f, 6f, 7f, 8f, 2f]);
        candidates.Sorted = true; // penalties must clear it
        penalties.Apply(candidates);
        Span<TokenCandidate> c = candidates.Span;
        Assert.Equal(4f, c[0].Logit);                              // never seen
        Assert.Equal(3f / 1.5f - (2 * 0.25f + 0.5f), c[1].Logit);  // positive, seen twice: divided
        Assert.Equal(-2f * 1.5f - (0.25f + 0.5f), c[2].Logit);     // negative, seen once: multiplied
        Assert.Equal(0f * 1.5f - (0.25f + 0.5f), c[3].Logit);      // zero counts as negative
        Assert.Equal(2f, c[9].Logit);                              // left the window
        Assert.False(candidates.Sorted);

        penalties.Reset();
        candidates.Load([4f, 3f, -2f, 0f, 1f, 5f, 6f, 7f, 8f, 2f]);
        penalties.Apply(candidates);
        Assert.Equal(3f, candidates.Span[1].Logit);
    }

    [Fact]
    public void RepetitionPenaltySteersAwayFromRepeats()
    {
        // Token 0 is the favourite; a strong penalty makes the chain avoid repeating it right away.
        float[] logits = [3f, 2.5f, 2.4f, 2.3f];
        var chain = new SamplerChain(Plain(seed: 3) with { RepeatPenalty = 3f, PenaltyLastN = 1 }, logits.Length);
        var free = new SamplerChain(Plain(seed: 3), logits.Length);
        int repeatsPenalised = 0, repeatsFree = 0;
        int last = -1, lastFree = -1;
        for (int i = 0; i < 2000; i++)
        {
            int t = chain.Sample(logits);
            chain.Accept(t);
            repeatsPenalised += t == last ? 1 : 0;
            last = t;
            int f = free.Sample(logits);
            free.Accept(f);
            repeatsFree += f == lastFree ? 1 : 0;
            lastFree = f;
        }
        Assert.True(repeatsPenalised < repeatsFree / 2, $"{repeatsPenalised} repeats with the penalty, {repeatsFree} without");
    }

    [Fact]
    public void LogitBiasShiftsAndBans()
    {
        float[] logits = [5f, 0f, 0f, 0f];
        var bias = new Dictionary<int, float> { [0] = float.NegativeInfinity, [3] = 2f };
        int[] counts = Draw(Plain() with { LogitBias = bias }, logits, 3000);
        Assert.Equal(0, counts[0]);
        // Token 3 has e^2 times the weight of tokens 1 and 2.
        Assert.InRange(counts[3] / 3000.0, Math.E * Math.E / (Math.E * Math.E + 2) - 0.03, Math.E * Math.E / (Math.E * Math.E + 2) + 0.03);
        Assert.Equal(3, new SamplerChain(SamplingOptions.Greedy with { LogitBias = bias }, 4).Sample(logits));
    }

    [Fact]
    public void SamplingAllocatesNothingPerToken()
    {
        const int vocab = 8_000;
        var random = new Random(1);
        float[] logits = [.. Enumerable.Range(0, vocab).Select(_ => (float)(random.NextDouble() * 10))];
        SamplingOptions[] settings =
        [
            new() { Seed = 1, RepeatPenalty = 1.1f, FrequencyPenalty = 0.1f, PresencePenalty = 0.1f, LogitBias = new Dictionary<int, float> { [5] = 1f } },
            new() { Seed = 2, TopK = 0, TopP = 0.9f, MinP = 0f },
            new() { Seed = 3, TopK = 0, TopP = 1f, MinP = 0.05f },
            SamplingOptions.Greedy,
        ];
        foreach (SamplingOptions options in settings)
        {
            var chain = new SamplerChain(options, vocab);
            for (int i = 0; i < 30; i++)
            {
                chain.Accept(chain.Sample(logits)); // warm up (JIT, tiering)
            }
            // A per-token allocation shows in every round; the runtime's one-off work (tiered JIT
            // promotion, which can land in any round on a loaded machine) does not repeat.
            long allocated = long.MaxValue;
            for (int round = 0; round < 3 && allocated != 0; round++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 100; i++)
                {
                    logits[i % vocab] += 0.5f;
                    chain.Accept(chain.Sample(logits));
                }
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            }
            Assert.True(allocated == 0, $"{options}: {allocated} bytes over 100 tokens in each of 3 rounds");
        }
    }

    public static TheoryData<string, SamplingOptions> InvalidOptions => new()
    {
        { "Temperature", new() { Temperature = -0.1f } },
        { "Temperature", new() { Temperature = float.NaN } },
        { "Temperature", new() { Temperature = float.PositiveInfinity } },
        { "TopK", new() { TopK = -1 } },
        { "TopP", new() { TopP = 0f } },
        { "TopP", new() { TopP = 1.01f } },
        { "TopP", new() { TopP = float.NaN } },
        { "MinP", new() { MinP = -0.01f } },
        { "MinP", new() { MinP = 1.5f } },
        { "MinKeep", new() { MinKeep = -1 } },
        { "RepeatPenalty", new() { RepeatPenalty = 0f } },
        { "RepeatPenalty", new() { RepeatPenalty = -1f } },
        { "FrequencyPenalty", new() { FrequencyPenalty = float.NaN } },
        { "PresencePenalty", new() { PresencePenalty = float.NegativeInfinity } },
        { "PenaltyLastN", new() { PenaltyLastN = -1 } },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void InvalidOptionIsNamed(string option, SamplingOptions options)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SamplerChain(options, 100));
        Assert.Equal(option, e.ParamName);
        Assert.Contains(option, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadTokensAndRowsAreRejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new SamplerChain(new SamplingOptions { LogitBias = new Dictionary<int, float> { [100] = 1f } }, 100));
        Assert.Contains("token 100", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new SamplerChain(new SamplingOptions { LogitBias = new Dictionary<int, float> { [1] = float.NaN } }, 100));
        var chain = new SamplerChain(new SamplingOptions { Seed = 1 }, 100);
        Assert.Throws<ArgumentException>(() => chain.Sample(new float[99]));
        Assert.Throws<ArgumentOutOfRangeException>(() => chain.Accept(100));
        Assert.Throws<ArgumentOutOfRangeException>(() => chain.Accept(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplerChain(new SamplingOptions(), 0));
        // A chain that never selects says so.
        var noDraw = new SamplerChain(10, [new TopKSampler(3)]);
        Assert.Throws<InvalidOperationException>(() => noDraw.Sample(new float[10]));
    }

    [Fact]
    public void DefaultsAreLlamaCpps()
    {
        var o = new SamplingOptions();
        Assert.Equal((0.8f, 40, 0.95f, 0.05f, 0), (o.Temperature, o.TopK, o.TopP, o.MinP, o.MinKeep));
        Assert.Equal((1f, 0f, 0f, 64), (o.RepeatPenalty, o.FrequencyPenalty, o.PresencePenalty, o.PenaltyLastN));
        Assert.Null(o.Seed);
        // Penalties at their defaults are off, so the chain leaves them out, as llama.cpp.
        Assert.Equal([typeof(TopKSampler), typeof(TopPSampler), typeof(MinPSampler), typeof(TemperatureSampler), typeof(DistSampler)],
            new SamplerChain(o, 10).Samplers.Select(s => s.GetType()));
    }

    [Fact]
    public void CandidatesSortTopKeepsTheBestInOrder()
    {
        var random = new Random(5);
        var lists = new List<TokenCandidate[]>();
        foreach (int n in new[] { 1, 2, 7, 17, 100, 1000, 5000 })
        {
            // Many ties (only 10 distinct logits), all distinct, ascending, descending, and all equal: quicksort's bad cases.
            lists.Add([.. Enumerable.Range(0, n).Select(i => new TokenCandidate(i, random.Next(10)))]);
            lists.Add([.. Enumerable.Range(0, n).Select(i => new TokenCandidate(i, (float)random.NextDouble()))]);
            lists.Add([.. Enumerable.Range(0, n).Select(i => new TokenCandidate(i, i))]);
            lists.Add([.. Enumerable.Range(0, n).Select(i => new TokenCandidate(i, -i))]);
            lists.Add([.. Enumerable.Range(0, n).Select(i => new TokenCandidate(n - 1 - i, 1f))]);
        }
        foreach (TokenCandidate[] input in lists)
        {
            int n = input.Length;
            TokenCandidate[] expected = [.. input.OrderByDescending(c => c.Logit).ThenBy(c => c.Id)];
            foreach (int k in new[] { 0, 1, 3, n / 5, n / 2, n - 1, n })
            {
                var candidates = new Candidates(n);
                candidates.Load(input);
                candidates.SortTop(k);
                Assert.Equal(expected.Take(k), candidates.Span[..Math.Min(k, n)].ToArray());
                Assert.Equal(input.Select(c => c.Id).Order(), candidates.Span.ToArray().Select(c => c.Id).Order());
                Assert.Equal(k >= n, candidates.Sorted);
            }
        }
    }

    private static int[] Draw(SamplingOptions options, float[] logits, int draws)
    {
        var chain = new SamplerChain(options, logits.Length);
        var counts = new int[logits.Length];
        for (int i = 0; i < draws; i++)
        {
            int t = chain.Sample(logits);
            chain.Accept(t);
            counts[t]++;
        }
        return counts;
    }

    private static float[] Logits(float[] probs) => [.. probs.Select(p => MathF.Log(p))];

    private static double[] Softmax(double[] x)
    {
        double max = x.Max();
        double[] e = [.. x.Select(v => Math.Exp(v - max))];
        double sum = e.Sum();
        return [.. e.Select(v => v / sum)];
    }
}
