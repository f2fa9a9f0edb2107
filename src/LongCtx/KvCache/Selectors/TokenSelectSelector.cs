using System.Numerics.Tensors;
using LongCtx.Attention;

namespace LongCtx.KvCache.Selectors;

/// <summary>
/// TokenSelect: token-level selection by a soft vote of the heads. Each query head of the group
/// scores every entry with softmax(q·k/√d); the summed votes pick the <see cref="Budget"/> entries
/// attention reads (values, softmax and output only for those), with the first
/// <see cref="Sinks"/> and the last <see cref="Window"/> entries always read. A selection cache
/// reuses the previous step's choice (plus the entries written since) while the queries stay
/// similar (mean cosine ≥ <see cref="Reuse"/>), which skips the key scan. arXiv:2411.02886.
/// </summary>
public sealed class TokenSelectSelector : IKvSelector
{
    private readonly int _budget = 1024, _sinks = 4, _window = 64;
    private readonly float _reuse = 0.95f;
    private HeadState[]? _heads;

    /// <summary>Entries read per KV head and step (1024).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
    public int Budget { get => _budget; init => _budget = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Budget), value, "the budget must be at least 1"); }

    /// <summary>Initial entries always read (4).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public int Sinks { get => _sinks; init => _sinks = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(Sinks), value, "sinks cannot be negative"); }

    /// <summary>Most recent entries always read (64).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public int Window { get => _window; init => _window = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(Window), value, "the window cannot be negative"); }

    /// <summary>Mean query cosine at or above which the previous selection is reused (0.95; above 1 never reuses).</summary>
    public float Reuse { get => _reuse; init => _reuse = value; }

    /// <inheritdoc/>
    public int Select(KvCache cache, int layer, int kvHead, ReadOnlySpan<float> queries, Span<int> selected)
    {
        int n = cache.Count(layer, kvHead);
        if (n <= Budget)
        {
            return -1;
        }
        if (_heads is null)
        {
            Interlocked.CompareExchange(ref _heads, new HeadState[cache.LayerCount * cache.HeadCountKv], null);
        }
        HeadState st = _heads[layer * cache.HeadCountKv + kvHead] ??= new HeadState();
        int version = cache.Version(layer, kvHead);
        if (st.Version == version && st.Count > 0 && st.Queries.Length == queries.Length && MeanCosine(queries, st.Queries, cache.KeyDim) >= Reuse)
        {
            // Selection cache: the previous choice, plus what was written since
            int reused = st.Count;
            st.Selected.AsSpan(0, reused).CopyTo(selected);
            for (int j = st.EntryCount; j < n; j++)
            {
                selected[reused++] = j;
            }
            return reused;
        }

        KvHeadView head = cache.Head(layer, kvHead);
        int kd = head.KeyDim, group = queries.Length / cache.KeyDim;
        float scale = 1f / MathF.Sqrt(cache.KeyDim);
        Span<float> votes = KvScoring.Grow(ref st.Votes, n).AsSpan(0, n);
        Span<float> scores = KvScoring.Grow(ref st.Scores, n).AsSpan(0, n);
        Span<float> q = KvScoring.Grow(ref st.Query, kd).AsSpan(0, kd);
        Span<float> key = KvScoring.Grow(ref st.Key, kd).AsSpan(0, kd);
        votes.Clear();
        for (int g = 0; g < group; g++)
        {
            head.ProjectQuery(queries.Slice(g * cache.KeyDim, cache.KeyDim), q);
            for (int j = 0; j < n; j++)
            {
                head.ReadKey(j, key);
                scores[j] = TensorPrimitives.Dot(q, key);
            }
            DenseAttention.Softmax(scores, scale);
            TensorPrimitives.Add(votes, scores, votes);
        }
        int sinks = Math.Min(Sinks, n), window = Math.Min(Window, n - sinks);
        votes[..sinks].Fill(float.PositiveInfinity);
        votes[(n - window)..].Fill(float.PositiveInfinity);
        int budget = Math.Max(Budget, sinks + window);
        KvScoring.TopIndices(votes, budget, KvScoring.Grow(ref st.Keys, n), selected);

        // Remember the choice for the selection cache
        st.Selected = KvScoring.Grow(ref st.Selected, budget);
        selected[..budget].CopyTo(st.Selected);
        st.Count = budget;
        st.EntryCount = n;
        st.Version = version;
        if (st.Queries.Length != queries.Length)
        {
            st.Queries = new float[queries.Length];
        }
        queries.CopyTo(st.Queries);
        return budget;
    }

    private static float MeanCosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int hd)
    {
        float sum = 0;
        int heads = a.Length / hd;
        for (int g = 0; g < heads; g++)
        {
            sum += TensorPrimitives.CosineSimilarity(a.Slice(g * hd, hd), b.Slice(g * hd, hd));
        }
        return sum / heads;
    }

    private sealed class HeadState
    {
        public float[]? Votes, Scores, Query, Key;
        public ulong[]? Keys;
        public int[]? Selected;
        public float[] Queries = [];
        public int Count, EntryCount, Version = -1;
    }
}
