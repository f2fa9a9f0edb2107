using LongCtx.Generation;
using LongCtx.Generation.Sampling;
using LongCtx.Tests.Cli;

namespace LongCtx.Tests.Generation;

/// <summary>The shared generation loop: greedy equality, prefix reuse equal to a fresh prefill, context limits.</summary>
public sealed class TextGeneratorTests(CliModelFixture model) : IClassFixture<CliModelFixture>
{
    private TextGenerator Create(int contextSize) =>
        new(new Session(model.Model, new SessionOptions { ContextSize = contextSize }), model.Model.Tokenizer, new SamplerChain(SamplingOptions.Greedy, model.Model.Config.VocabSize));

    private static List<int> Run(TextGenerator g, IReadOnlyList<int> prompt, int n, out GenerationResult result)
    {
        var generated = new List<int>();
        result = g.Generate(prompt.ToArray(), new StopCondition(maxTokens: n), null, generated);
        return generated;
    }

    [Fact]
    public void A_prompt_that_extends_the_held_tokens_prefills_only_the_suffix_and_matches_a_fresh_run()
    {
        int[] first = model.Model.Tokenizer.Encode("one two three", addSpecial: true);
        TextGenerator reused = Create(256);
        List<int> a = Run(reused, first, 5, out GenerationResult r1);
        Assert.Equal(first.Length, r1.PrefilledTokens);
        Assert.Equal(5, r1.GeneratedTokens);
        Assert.Equal(4, r1.DecodedTokens);

        List<int> second = [.. first, .. a, .. model.Model.Tokenizer.Encode(" four five", addSpecial: false)];
        List<int> b = Run(reused, second, 5, out GenerationResult r2);
        Assert.Equal(second.Count - (first.Length + 4), r2.PrefilledTokens);   // the last generated token was never evaluated

        List<int> fresh = Run(Create(256), second, 5, out GenerationResult r3);
        Assert.Equal(second.Count, r3.PrefilledTokens);
        Assert.Equal(fresh, b);

        // A prompt that does not extend the held tokens starts over.
        List<int> again = Run(reused, first, 5, out GenerationResult r4);
        Assert.Equal(first.Length, r4.PrefilledTokens);
        Assert.Equal(a, again);
    }

    [Fact]
    public void Context_limits_are_named()
    {
        TextGenerator g = Create(16);
        Assert.Throws<PromptTooLongException>(() => Run(g, Enumerable.Range(0, 16).ToList(), 4, out _));
        Assert.Throws<ArgumentException>(() => g.Generate([], new StopCondition()));
        List<int> tokens = Run(g, Enumerable.Range(0, 12).ToList(), 100, out GenerationResult r);
        Assert.Equal(StopReason.ContextFull, r.Reason);
        Assert.Equal(5, tokens.Count);   // positions 12..15 hold four of them; the fifth is sampled from the last logits
    }

    [Fact]
    public void A_new_sampler_keeps_the_held_prefix_and_samples_as_after_a_fresh_prefill()
    {
        int[] first = model.Model.Tokenizer.Encode("one two three", addSpecial: true);
        var sampled = new SamplingOptions { Temperature = 1.2f, Seed = 7 };
        TextGenerator reused = Create(256);
        List<int> a = Run(reused, first, 5, out _);
        List<int> second = [.. first, .. a, .. model.Model.Tokenizer.Encode(" four", addSpecial: false)];
        reused.Sampler = new SamplerChain(sampled, model.Model.Config.VocabSize);
        List<int> b = Run(reused, second, 6, out GenerationResult r);
        Assert.Equal(second.Count - (first.Length + 4), r.PrefilledTokens);

        TextGenerator fresh = Create(256);
        fresh.Sampler = new SamplerChain(sampled, model.Model.Config.VocabSize);
        Assert.Equal(Run(fresh, second, 6, out _), b);
        Assert.Throws<ArgumentException>(() => reused.Sampler = new SamplerChain(SamplingOptions.Greedy, model.Model.Config.VocabSize + 1));
    }

    [Fact]
    public void Cancellation_stops_between_tokens_and_the_next_call_still_reuses_the_session()
    {
        int[] prompt = model.Model.Tokenizer.Encode("one two three", addSpecial: true);
        TextGenerator g = Create(256);
        using var cts = new CancellationTokenSource();
        var generated = new List<int>();
        Assert.ThrowsAny<OperationCanceledException>(() => g.Generate(prompt, new StopCondition(maxTokens: 100), _ => cts.Cancel(), generated, cts.Token));
        Assert.Single(generated);
        List<int> next = [.. prompt, generated[0], .. model.Model.Tokenizer.Encode(" four", addSpecial: false)];
        List<int> after = Run(g, next, 5, out GenerationResult r);
        Assert.Equal(next.Count - (prompt.Length + 1), r.PrefilledTokens);   // the session still holds the prompt and the token decoded before the check
        Assert.Equal(Run(Create(256), next, 5, out _), after);
    }
}
