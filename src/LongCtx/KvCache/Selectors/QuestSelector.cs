namespace LongCtx.KvCache.Selectors;

/// <summary>
/// Quest: query-aware page selection. Each KV head's keys are summarized per page of
/// <see cref="PageSize"/> entries by their channel-wise min and max; at every decode step a page's
/// upper bound of q·k is Σ_c max(q_c·min_c, q_c·max_c) and attention reads the pages with the
/// largest bounds up to <see cref="Budget"/> entries, plus the page holding the current token.
/// arXiv:2406.10774. With GQA one choice serves the group: the bounds of its query heads are summed.
/// The first <see cref="DenseLayers"/> layers read everything, as in the paper.
/// </summary>
public sealed class QuestSelector : IKvSelector
{
    private readonly int _budget = 1024, _pageSize = 16, _denseLayers = 2;
    private HeadPages[]? _heads;

    /// <summary>Entries read per KV head and step (1024).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
    public int Budget { get => _budget; init => _budget = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Budget), value, "the budget must be at least 1"); }

    /// <summary>Entries per page (16, the paper's).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
    public int PageSize { get => _pageSize; init => _pageSize = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(PageSize), value, "the page size must be at least 1"); }

    /// <summary>Leading layers that read every entry (2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public int DenseLayers { get => _denseLayers; init => _denseLayers = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(DenseLayers), value, "dense layers cannot be negative"); }

    /// <inheritdoc/>
    public int Select(KvCache cache, int layer, int kvHead, ReadOnlySpan<float> queries, Span<int> selected)
    {
        int n = cache.Count(layer, kvHead);
        if (n <= Budget || layer < DenseLayers)
        {
            return -1;
        }
        if (_heads is null)
        {
            Interlocked.CompareExchange(ref _heads, new HeadPages[cache.LayerCount * cache.HeadCountKv], null);
        }
        HeadPages pages = _heads[layer * cache.HeadCountKv + kvHead] ??= new HeadPages();
        KvHeadView head = cache.Head(layer, kvHead);
        // The page holding the current token is always read; the complete pages before it compete.
        int p = PageSize, kd = head.KeyDim, full = (n - 1) / p, tail = n - full * p;
        pages.Update(head, cache.Version(layer, kvHead), full, p);

        // Upper bound of q·k on each complete page, summed over the group's query heads
        int group = queries.Length / cache.KeyDim;
        Span<float> bounds = KvScoring.Grow(ref pages.Bounds, full).AsSpan(0, full);
        bounds.Clear();
        Span<float> q = KvScoring.Grow(ref pages.Query, kd).AsSpan(0, kd);
        for (int g = 0; g < group; g++)
        {
            head.ProjectQuery(queries.Slice(g * cache.KeyDim, cache.KeyDim), q);
            for (int page = 0; page < full; page++)
            {
                ReadOnlySpan<float> lo = pages.Min.AsSpan(page * kd, kd), hi = pages.Max.AsSpan(page * kd, kd);
                float bound = 0;
                for (int c = 0; c < kd; c++)
                {
                    bound += MathF.Max(q[c] * lo[c], q[c] * hi[c]);
                }
                bounds[page] += bound;
            }
        }

        int chosen = Math.Min(full, Math.Max(0, (Budget - tail) / p));
        Span<int> top = KvScoring.Grow(ref pages.Top, chosen).AsSpan(0, chosen);
        KvScoring.TopIndices(bounds, chosen, KvScoring.Grow(ref pages.Keys, full), top);
        int count = 0;
        foreach (int page in top)
        {
            for (int j = page * p; j < page * p + p; j++)
            {
                selected[count++] = j;
            }
        }
        for (int j = full * p; j < n; j++)
        {
            selected[count++] = j;
        }
        return count;
    }

    /// <summary>Per-page min and max keys of one head, extended as pages fill and rebuilt when the head changes.</summary>
    private sealed class HeadPages
    {
        public float[] Min = [], Max = [];
        public float[]? Bounds, Query;
        public int[]? Top;
        public ulong[]? Keys;
        private int _summarized, _version = -1, _keyDim, _pageSize;

        public void Update(in KvHeadView head, int version, int full, int pageSize)
        {
            int kd = head.KeyDim;
            if (version != _version || kd != _keyDim || pageSize != _pageSize)
            {
                _summarized = 0;
                _version = version;
                _keyDim = kd;
                _pageSize = pageSize;
            }
            if (Min.Length < full * kd)
            {
                int cap = Math.Max(full, Min.Length / Math.Max(1, kd) * 5 / 4) * kd;
                Array.Resize(ref Min, cap);
                Array.Resize(ref Max, cap);
            }
            Span<float> key = stackalloc float[kd];
            for (int page = _summarized; page < full; page++)
            {
                Span<float> lo = Min.AsSpan(page * kd, kd), hi = Max.AsSpan(page * kd, kd);
                lo.Fill(float.PositiveInfinity);
                hi.Fill(float.NegativeInfinity);
                for (int j = page * pageSize; j < page * pageSize + pageSize; j++)
                {
                    head.ReadKey(j, key);
                    for (int c = 0; c < kd; c++)
                    {
                        lo[c] = MathF.Min(lo[c], key[c]);
                        hi[c] = MathF.Max(hi[c], key[c]);
                    }
                }
            }
            _summarized = full;
        }
    }
}
