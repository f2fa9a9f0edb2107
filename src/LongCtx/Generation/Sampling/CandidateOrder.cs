namespace LongCtx.Generation.Sampling;

/// <summary>
/// Best first: higher logit first, and the lower id first among equal logits so that every sort is
/// deterministic (llama.cpp leaves ties in whatever order std::partial_sort gives). NaN sorts last.
/// A struct comparer, so sorting allocates nothing.
/// </summary>
internal readonly struct CandidateOrder : IComparer<TokenCandidate>
{
    public int Compare(TokenCandidate a, TokenCandidate b)
    {
        int byLogit = b.Logit.CompareTo(a.Logit);
        return byLogit != 0 ? byLogit : a.Id.CompareTo(b.Id);
    }
}
