using LongCtx.Train.Model;

namespace LongCtx.Train.Data;

/// <summary>
/// Fills the batch of step s from the stream (seed, s) alone, so batches never depend on what ran
/// before (a resumed run sees the same data). Each sequence is one task of the mixture:
/// <list type="bullet">
/// <item><c>text</c>: a window of the tokenized corpus, loss on every token (language modelling);</item>
/// <item><c>repeat</c>: random tokens repeated (x x x …), loss only where the token is a copy, the
/// induction warm-up that retrieval builds on (Olsson et al., "In-context learning and induction heads").</item>
/// <item><c>recall</c>: multi-query associative recall (key value pairs, then keys asked again in
/// another order; loss on the recalled values), the lookup that needle retrieval is made of
/// (Arora et al., "Zoology", MQAR).</item>
/// <item><c>niah</c>, <c>multi</c>, <c>vt</c>: RULER-style retrieval samples (<see cref="RetrievalTasks"/>) of
/// random lengths packed into the sequence, separated by end-of-text, loss on the answers only.</item>
/// <item><c>copy</c>: a window of corpus text repeated (induction on real tokens, the copy a needle
/// answer is), loss on the copies.</item>
/// </list>
/// With <c>perSequence</c> each sequence's weights are scaled to sum to 1, so the batch loss is the
/// mean over sequences of each one's mean loss: a text sequence (every token weighted) then weighs
/// as much as a retrieval sequence (a few answer tokens), instead of swamping it.
/// </summary>
internal sealed class BatchSource
{
    public static readonly string[] Tasks = ["text", "repeat", "recall", "niah", "multi", "vt", "copy"];
    private readonly int[] _text;
    private readonly RetrievalTasks? _retrieval;
    private readonly int _separator;
    private readonly int _ordinary;
    private readonly ulong _seed;
    private readonly bool _perSequence;

    /// <param name="text">The tokenized corpus (documents separated by end-of-text).</param>
    /// <param name="ordinaryTokens">Ids below this are ordinary tokens (the specials follow).</param>
    /// <param name="seed">Run seed.</param>
    /// <param name="retrieval">Generator of the retrieval tasks (null: text and repeat only).</param>
    /// <param name="separator">Token between packed samples (end-of-text).</param>
    /// <param name="perSequence">Normalize the loss weights per sequence (see the class remarks).</param>
    public BatchSource(int[] text, int ordinaryTokens, ulong seed, RetrievalTasks? retrieval = null, int separator = 0, bool perSequence = false)
    {
        _perSequence = perSequence;
        _text = text;
        _retrieval = retrieval;
        _separator = separator;
        _ordinary = ordinaryTokens;
        _seed = seed;
    }

    /// <summary>Fills <paramref name="batch"/> for step <paramref name="step"/>; <paramref name="taskOf"/> receives each sequence's task index.</summary>
    /// <param name="batch">The batch to overwrite.</param>
    /// <param name="step">Step number: the batch is a function of (seed, step).</param>
    /// <param name="mix">Task → share of the sequences.</param>
    /// <param name="taskOf">Receives each sequence's index in <see cref="Tasks"/>.</param>
    /// <param name="alphabet">Random tokens of <c>repeat</c> and <c>recall</c> come from ids [0, alphabet); 0 = every ordinary token.</param>
    public void Fill(Batch batch, long step, IReadOnlyDictionary<string, double> mix, Span<int> taskOf, int alphabet = 0)
    {
        if (alphabet < 0 || alphabet > _ordinary) throw new ArgumentOutOfRangeException(nameof(alphabet), alphabet, $"the alphabet must be 0 (all) or 1..{_ordinary} tokens");
        int drawFrom = alphabet == 0 ? _ordinary : alphabet;
        var rng = SplitMix.For(_seed, (ulong)step);
        double total = 0;
        foreach (string t in Tasks) total += mix.GetValueOrDefault(t);
        foreach (string k in mix.Keys)
        {
            if (Array.IndexOf(Tasks, k) < 0) throw new ArgumentException($"unknown task '{k}' in the mixture (tasks: {string.Join(", ", Tasks)})");
        }
        int length = batch.Length;
        for (int b = 0; b < batch.Sequences; b++)
        {
            double u = rng.NextDouble() * total;
            int task = 0, last = 0;
            for (; task < Tasks.Length; task++)
            {
                double share = mix.GetValueOrDefault(Tasks[task]);
                if (share > 0) last = task;
                u -= share;
                if (u < 0) break;
            }
            if (task == Tasks.Length) task = last;   // rounding: the last task with a share
            taskOf[b] = task;
            Span<int> tokens = batch.Tokens.AsSpan(b * length, length), targets = batch.Targets.AsSpan(b * length, length);
            Span<float> weights = batch.Weights.AsSpan(b * length, length);
            switch (Tasks[task])
            {
                case "text": Text(ref rng, tokens, targets, weights); break;
                case "repeat": Repeat(ref rng, drawFrom, tokens, targets, weights); break;
                case "recall": Recall(ref rng, drawFrom, tokens, targets, weights); break;
                case "copy": Copy(ref rng, tokens, targets, weights); break;
                default: Pack(Tasks[task], ref rng, tokens, targets, weights); break;
            }
            if (_perSequence)
            {
                float sum = 0;
                foreach (float w in weights) sum += w;
                if (sum > 0) for (int i = 0; i < weights.Length; i++) weights[i] /= sum;
            }
        }
    }

    /// <summary>Period p log-uniform in 8..n/2: a corpus window of p tokens, repeated to the end; loss on the copies.</summary>
    private void Copy(ref SplitMix rng, Span<int> tokens, Span<int> targets, Span<float> weights)
    {
        int n = tokens.Length;
        int period = Math.Clamp((int)Math.Exp(Math.Log(8) + rng.NextDouble() * (Math.Log(Math.Max(9, n / 2)) - Math.Log(8))), 2, Math.Max(2, n / 2));
        if (_text.Length < period + 1) throw new InvalidOperationException($"the corpus has {_text.Length} tokens, fewer than one window of {period + 1}");
        int start = rng.Next(_text.Length - period);
        Periodic(_text.AsSpan(start, Math.Min(period, n + 1)), period, tokens, targets, weights);
    }

    private void Text(ref SplitMix rng, Span<int> tokens, Span<int> targets, Span<float> weights)
    {
        int n = tokens.Length;
        if (_text.Length < n + 1) throw new InvalidOperationException($"the corpus has {_text.Length} tokens, fewer than one sequence of {n + 1}");
        int start = rng.Next(_text.Length - n);
        _text.AsSpan(start, n).CopyTo(tokens);
        _text.AsSpan(start + 1, n).CopyTo(targets);
        weights.Fill(1f);
    }

    /// <summary>A random period of 4..n/2 tokens from [0, alphabet) (log-uniform), repeated to the end; loss on every target that is a copy.</summary>
    private static void Repeat(ref SplitMix rng, int alphabet, Span<int> tokens, Span<int> targets, Span<float> weights)
    {
        int n = tokens.Length;
        int period = Math.Clamp((int)Math.Exp(Math.Log(4) + rng.NextDouble() * (Math.Log(Math.Max(5, n / 2)) - Math.Log(4))), 4, Math.Max(4, n / 2));
        var first = new int[Math.Min(period, n + 1)];
        for (int i = 0; i < first.Length; i++) first[i] = rng.Next(alphabet);
        Periodic(first, period, tokens, targets, weights);
    }

    /// <summary>x[i] = first[i] for i &lt; period, else x[i − period]; tokens = x[0..n), targets = x[1..n], loss on the targets that are copies.</summary>
    private static void Periodic(ReadOnlySpan<int> first, int period, Span<int> tokens, Span<int> targets, Span<float> weights)
    {
        int n = tokens.Length;
        for (int i = 0; i <= n; i++)
        {
            int x = i < period ? first[i] : tokens[i - period];
            if (i < n) tokens[i] = x;
            if (i > 0) targets[i - 1] = x;
            if (i < n) weights[i] = i + 1 >= period ? 1f : 0f;
        }
    }

    /// <summary>
    /// Pairs "k v" of random tokens from [0, alphabet) with distinct keys (8 to n/4 pairs, at most alphabet), then the keys again
    /// in a random order, each followed by its value: loss on the recalled values only.
    /// </summary>
    private static void Recall(ref SplitMix rng, int alphabet, Span<int> tokens, Span<int> targets, Span<float> weights)
    {
        int n = tokens.Length;
        int pairs = Math.Min(Math.Max(2, 8 + rng.Next(Math.Max(1, n / 4 - 7))), alphabet);   // keys are distinct
        var keys = new int[pairs];
        var values = new int[pairs];
        var used = new HashSet<int>();
        for (int p = 0; p < pairs; p++)
        {
            int k;
            do k = rng.Next(alphabet); while (!used.Add(k));
            keys[p] = k;
            values[p] = rng.Next(alphabet);
        }
        // x: the pairs, then queries (key, value) until the sequence is full.
        var x = new int[n + 1];
        var recalled = new bool[n + 1];
        int at = 0;
        for (int p = 0; p < pairs && at + 1 <= n; p++)
        {
            x[at++] = keys[p];
            x[at++] = values[p];
        }
        while (at + 1 <= n)
        {
            int q = rng.Next(pairs);
            x[at++] = keys[q];
            x[at] = values[q];
            recalled[at++] = true;
        }
        if (at == n) x[n] = keys[rng.Next(pairs)];
        for (int i = 0; i < n; i++)
        {
            tokens[i] = x[i];
            targets[i] = x[i + 1];
            weights[i] = recalled[i + 1] ? 1f : 0f;
        }
    }

    /// <summary>
    /// Retrieval samples packed until less than a sample's room is left; half of them fill what is
    /// left, the others take a log-uniform share of it (so every stage also sees short contexts).
    /// The rest of the sequence is text without loss.
    /// </summary>
    private void Pack(string task, ref SplitMix rng, Span<int> tokens, Span<int> targets, Span<float> weights)
    {
        if (_retrieval is null) throw new InvalidOperationException($"task '{task}' needs the retrieval generator");
        int n = tokens.Length, pos = 0;
        weights.Clear();
        int misses = 0;
        while (n + 1 - pos >= RetrievalTasks.MinLength && misses < 3)
        {
            int space = n + 1 - pos;   // the sample's last token is only a target
            int length = rng.NextDouble() < 0.5 ? space : (int)Math.Exp(Math.Log(RetrievalTasks.MinLength) + rng.NextDouble() * (Math.Log(space) - Math.Log(RetrievalTasks.MinLength)));
            var drawn = _retrieval.Draw(task, ref rng, Math.Max(length, RetrievalTasks.MinLength), space);
            if (drawn is not { } sample)
            {
                misses++;
                continue;
            }
            List<int> ids = sample.Tokens;
            for (int i = 0; i < ids.Count; i++)
            {
                int at = pos + i;
                if (at < n) tokens[at] = ids[i];
                if (at > 0 && at - 1 < n)
                {
                    targets[at - 1] = ids[i];
                    weights[at - 1] = i >= sample.AnswerStart ? 1f : 0f;
                }
            }
            pos += ids.Count;
            if (pos < n + 1)
            {
                // separator between samples: a token and a target, no loss
                if (pos < n) tokens[pos] = _separator;
                if (pos > 0) targets[pos - 1] = _separator;
                pos++;
            }
        }
        if (pos < n + 1)
        {
            // Fill the tail with corpus text as context only.
            int start = rng.Next(_text.Length - n - 1);
            for (int at = Math.Max(pos, 0), j = start; at <= n; at++, j++)
            {
                if (at < n) tokens[at] = _text[j];
                if (at > 0) targets[at - 1] = _text[j];
            }
        }
    }
}
