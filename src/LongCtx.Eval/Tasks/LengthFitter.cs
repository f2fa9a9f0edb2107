namespace LongCtx.Eval.Tasks;

/// <summary>
/// Finds the largest haystack (in the task's own units: sentences, words, documents...) whose prompt
/// fits a token budget, by galloping then bisecting on the real token count, as RULER's generators
/// search num_haystack. A build must be deterministic in its unit count.
/// </summary>
internal static class LengthFitter
{
    public readonly record struct Fitted<T>(T Value, int Units, int Tokens);

    /// <param name="task">Task name, for the error message.</param>
    /// <param name="budget">Most tokens the prompt may have.</param>
    /// <param name="minUnits">Smallest haystack (often 0 or 1).</param>
    /// <param name="maxUnits">Largest haystack the task can build.</param>
    /// <param name="build">Builds the sample for a unit count.</param>
    /// <param name="count">Counts the tokens of a built sample.</param>
    public static Fitted<T> Fit<T>(string task, int budget, int minUnits, int maxUnits, Func<int, T> build, Func<T, int> count)
    {
        T lowValue = build(minUnits);
        int lowTokens = count(lowValue);
        if (lowTokens > budget)
        {
            throw new SampleSizeException(
                $"{task}: the smallest sample has {lowTokens} tokens, more than the budget of {budget} tokens; use a longer length");
        }
        var best = new Fitted<T>(lowValue, minUnits, lowTokens);
        if (minUnits >= maxUnits)
        {
            return best;
        }

        // Estimate tokens per unit from a small probe, then jump near the answer.
        int probe = Math.Min(maxUnits, minUnits + 8);
        T probeValue = build(probe);
        int probeTokens = count(probeValue);
        if (probeTokens > budget)
        {
            return Bisect(best, probe, budget, build, count);
        }
        best = new Fitted<T>(probeValue, probe, probeTokens);
        double perUnit = Math.Max(1e-3, (probeTokens - lowTokens) / (double)(probe - minUnits));
        int guess = (int)Math.Clamp(probe + (long)((budget - probeTokens) / perUnit), probe + 1L, maxUnits);
        int step = Math.Max(1, (guess - probe) / 64);
        T guessValue = build(guess);
        int guessTokens = count(guessValue);
        int hi;
        if (guessTokens <= budget)
        {
            // Gallop up until over budget or at the task's maximum.
            best = new Fitted<T>(guessValue, guess, guessTokens);
            while (true)
            {
                if (best.Units >= maxUnits)
                {
                    return best;
                }
                int next = (int)Math.Min(maxUnits, (long)best.Units + step);
                T value = build(next);
                int tokens = count(value);
                if (tokens > budget)
                {
                    hi = next;
                    break;
                }
                best = new Fitted<T>(value, next, tokens);
                step *= 2;
            }
        }
        else
        {
            // Gallop down until it fits; the probe is known to fit.
            hi = guess;
            while (true)
            {
                int next = Math.Max(probe, hi - step);
                if (next == probe)
                {
                    break;
                }
                T value = build(next);
                int tokens = count(value);
                if (tokens <= budget)
                {
                    best = new Fitted<T>(value, next, tokens);
                    break;
                }
                hi = next;
                step *= 2;
            }
        }
        return Bisect(best, hi, budget, build, count);
    }

    // Invariant: best fits, hi does not; finds the largest fitting unit count between them.
    private static Fitted<T> Bisect<T>(Fitted<T> best, int hi, int budget, Func<int, T> build, Func<T, int> count)
    {
        int lo = best.Units;
        while (hi - lo > 1)
        {
            int mid = lo + (hi - lo) / 2;
            T value = build(mid);
            int tokens = count(value);
            if (tokens <= budget)
            {
                best = new Fitted<T>(value, mid, tokens);
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }
        return best;
    }
}

/// <summary>
/// The common end of every generator: fit the haystack to the request's budget (length − answer
/// tokens − prompt overhead, counting input + answer prefix as the engine will see them) and make
/// the sample. Task-specific fields (labels, question) are added with <c>with</c>.
/// </summary>
internal static class SampleFitting
{
    /// <summary>Fits a build that gives the input text.</summary>
    public static EvalSample Fit(IEvalTask task, SampleRequest request, string answerPrefix, IReadOnlyList<string> answers, Func<int, string> build) =>
        Fit(task, request, answerPrefix, 0, build, input => input, _ => answers);

    /// <summary>Fits a build of any shape, from <paramref name="minUnits"/> units up.</summary>
    /// <param name="task">The task (name, answer tokens, metric, depth).</param>
    /// <param name="request">Length, seed, token counter and prompt overhead.</param>
    /// <param name="answerPrefix">The answer prefix, counted with the input.</param>
    /// <param name="minUnits">Smallest haystack.</param>
    /// <param name="build">Builds the sample for a unit count.</param>
    /// <param name="input">The prompt input of a build.</param>
    /// <param name="answers">The expected answers of a build (e.g. cwe's common words, which depend on the size).</param>
    public static EvalSample Fit<T>(IEvalTask task, SampleRequest request, string answerPrefix, int minUnits,
        Func<int, T> build, Func<T, string> input, Func<T, IReadOnlyList<string>> answers)
    {
        int budget = request.Length - task.MaxNewTokens - request.PromptOverhead;
        var fit = LengthFitter.Fit(task.Name, budget, minUnits, 50_000_000, build, b => request.Counter.Count(input(b) + answerPrefix));
        return new EvalSample
        {
            Task = task.Name,
            Length = request.Length,
            Index = request.Index,
            Seed = request.Seed,
            Input = input(fit.Value),
            AnswerPrefix = answerPrefix,
            Answers = answers(fit.Value),
            Metric = task.Metric,
            MaxNewTokens = task.MaxNewTokens,
            PromptTokens = fit.Tokens,
            TargetTokens = budget,
            Depth = task.Depth,
        };
    }
}
