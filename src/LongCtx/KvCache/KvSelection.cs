namespace LongCtx.KvCache;

/// <summary>The entries each KV head of one layer reads at a decode step, as a selector chose them.</summary>
internal sealed class KvSelection(int kvHeads)
{
    private readonly int[][] _indices = CreateEmpty(kvHeads);
    private readonly int[] _counts = new int[kvHeads];

    /// <summary>Room for <paramref name="capacity"/> indices of <paramref name="kvHead"/>.</summary>
    public Span<int> Buffer(int kvHead, int capacity)
    {
        if (_indices[kvHead].Length < capacity)
        {
            _indices[kvHead] = new int[Math.Max(capacity, _indices[kvHead].Length * 5 / 4)];
        }
        return _indices[kvHead].AsSpan(0, capacity);
    }

    /// <summary>Sets how many indices of <paramref name="kvHead"/>'s buffer are chosen; −1 = read everything.</summary>
    public void SetCount(int kvHead, int count) => _counts[kvHead] = count;

    /// <summary>The chosen entries of <paramref name="kvHead"/>, or false when it reads every entry.</summary>
    public bool TryGet(int kvHead, out ReadOnlySpan<int> indices)
    {
        int n = _counts[kvHead];
        indices = n >= 0 ? _indices[kvHead].AsSpan(0, n) : default;
        return n >= 0;
    }

    private static int[][] CreateEmpty(int n)
    {
        var a = new int[n][];
        for (int i = 0; i < n; i++)
        {
            a[i] = [];
        }
        return a;
    }
}
