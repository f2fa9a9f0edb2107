namespace LongCtx.Generation.Sampling;

/// <summary>
/// The candidate list the samplers of a chain work on, in place (<c>llama_token_data_array</c>):
/// one buffer allocated for the whole vocabulary once, reloaded from each row of logits. Samplers
/// shrink it (<see cref="Truncate"/>), reorder it, change logits, and the last one picks
/// <see cref="Selected"/>.
/// </summary>
public sealed class Candidates
{
    private readonly TokenCandidate[] _data;

    /// <summary>Allocates room for <paramref name="capacity"/> candidates (the vocabulary size).</summary>
    public Candidates(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _data = new TokenCandidate[capacity];
    }

    /// <summary>Most candidates the buffer holds.</summary>
    public int Capacity => _data.Length;

    /// <summary>Candidates still in the running.</summary>
    public int Count { get; private set; }

    /// <summary>True when the candidates are in <see cref="CandidateOrder"/> (best first); a sampler that changes logits must clear it.</summary>
    public bool Sorted { get; set; }

    /// <summary>Index (into <see cref="Span"/>, not a token id) of the chosen candidate, or -1 before a selecting sampler ran.</summary>
    public int Selected { get; set; } = -1;

    /// <summary>The candidates still in the running.</summary>
    public Span<TokenCandidate> Span => _data.AsSpan(0, Count);

    /// <summary>Token id of the <see cref="Selected"/> candidate.</summary>
    /// <exception cref="InvalidOperationException">Nothing was selected.</exception>
    public int SelectedToken => (uint)Selected < (uint)Count
        ? _data[Selected].Id
        : throw new InvalidOperationException("no candidate was selected: the chain must end with a sampler that picks a token (dist or greedy)");

    /// <summary>Starts over from a row of logits: candidate i is token i, in id order, unsorted, nothing selected.</summary>
    /// <exception cref="ArgumentException">More logits than <see cref="Capacity"/>, or none.</exception>
    public void Load(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty || logits.Length > _data.Length)
        {
            throw new ArgumentException($"{logits.Length} logits for a candidate buffer of {_data.Length}", nameof(logits));
        }
        for (int i = 0; i < logits.Length; i++)
        {
            _data[i] = new TokenCandidate(i, logits[i]);
        }
        Count = logits.Length;
        Sorted = false;
        Selected = -1;
    }

    /// <summary>Starts over from explicit candidates (any ids, any order), unsorted.</summary>
    /// <exception cref="ArgumentException">More candidates than <see cref="Capacity"/>, or none.</exception>
    public void Load(ReadOnlySpan<TokenCandidate> candidates)
    {
        if (candidates.IsEmpty || candidates.Length > _data.Length)
        {
            throw new ArgumentException($"{candidates.Length} candidates for a buffer of {_data.Length}", nameof(candidates));
        }
        candidates.CopyTo(_data);
        Count = candidates.Length;
        Sorted = false;
        Selected = -1;
    }

    /// <summary>Keeps the first <paramref name="count"/> candidates.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below 1 or above <see cref="Count"/>.</exception>
    public void Truncate(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count);
        Count = count;
    }

    /// <summary>
    /// Probabilities from the logits in the current order (<c>llama_sampler_softmax_impl</c> without
    /// sorting): p = exp(logit - max) / Σ, the sum taken in float in candidate order as llama.cpp does.
    /// </summary>
    public void Softmax()
    {
        Span<TokenCandidate> c = Span;
        float max = c[0].Logit;
        if (!Sorted)
        {
            for (int i = 1; i < c.Length; i++)
            {
                max = max < c[i].Logit ? c[i].Logit : max; // std::max: NaN never wins
            }
        }
        float sum = 0f;
        for (int i = 0; i < c.Length; i++)
        {
            float p = MathF.Exp(c[i].Logit - max);
            c[i].P = p;
            sum += p;
        }
        for (int i = 0; i < c.Length; i++)
        {
            c[i].P /= sum;
        }
    }

    /// <summary>
    /// Moves the <paramref name="k"/> best candidates to the front, best first (the rest follow in
    /// no particular order), as <c>std::partial_sort</c>. Sets <see cref="Sorted"/> when that orders
    /// the whole list. Allocates nothing.
    /// </summary>
    public void SortTop(int k)
    {
        Span<TokenCandidate> c = Span;
        k = Math.Clamp(k, 0, c.Length);
        CandidateSort.Top(c, k);
        if (k == c.Length)
        {
            Sorted = true;
        }
    }

    /// <summary>Sorts the candidates from <paramref name="start"/> on, best first, leaving those before it alone.</summary>
    internal void SortFrom(int start) => CandidateSort.All(Span[start..]);
}
