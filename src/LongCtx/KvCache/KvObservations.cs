using LongCtx.Models;

namespace LongCtx.KvCache;

/// <summary>What a press needs recorded while the tokens it compresses are evaluated.</summary>
/// <param name="QueryWindow">Post-RoPE queries of the last this-many tokens, per layer (SnapKV, TOVA, ThinK, ExpectedAttention).</param>
/// <param name="AccumulatedAttention">The attention each entry received, summed over every later query (H2O).</param>
public readonly record struct KvObservationNeeds(int QueryWindow = 0, bool AccumulatedAttention = false)
{
    /// <summary>What two presses applied one after the other need.</summary>
    public KvObservationNeeds Union(KvObservationNeeds other) =>
        new(Math.Max(QueryWindow, other.QueryWindow), AccumulatedAttention || other.AccumulatedAttention);
}

/// <summary>
/// The post-RoPE queries of the last <see cref="QueryWindow"/> evaluated tokens of every layer,
/// kept in a ring while a press observes (a copy of n_head × head_dim floats per token and
/// layer; nothing is recorded when no press asks).
/// </summary>
public sealed class KvObservations
{
    private readonly float[][] _queries;
    private readonly int[] _positions;
    private int _next = -1;

    /// <summary>Creates an empty record of the last <paramref name="queryWindow"/> tokens' queries.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="queryWindow"/> is less than 1.</exception>
    public KvObservations(ModelConfig config, int queryWindow)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queryWindow, 1);
        QueryWindow = queryWindow;
        HeadCount = config.HeadCount;
        HeadDim = config.HeadDim;
        _queries = new float[config.BlockCount][];
        for (int l = 0; l < _queries.Length; l++)
        {
            _queries[l] = new float[queryWindow * HeadCount * HeadDim];
        }
        _positions = new int[queryWindow];
    }

    /// <summary>Tokens whose queries are kept.</summary>
    public int QueryWindow { get; }
    /// <summary>Query heads per token.</summary>
    public int HeadCount { get; }
    /// <summary>Query head dimension.</summary>
    public int HeadDim { get; }
    /// <summary>Tokens recorded so far, at most <see cref="QueryWindow"/>.</summary>
    public int QueryCount { get; private set; }

    /// <summary>The queries of the <paramref name="i"/>-th oldest recorded token in <paramref name="layer"/> [n_head × head_dim].</summary>
    public ReadOnlySpan<float> Queries(int layer, int i) =>
        _queries[layer].AsSpan(Slot(i) * HeadCount * HeadDim, HeadCount * HeadDim);

    /// <summary>The position of the <paramref name="i"/>-th oldest recorded token.</summary>
    public int QueryPosition(int i) => _positions[Slot(i)];

    /// <summary>Records a batch of <paramref name="n"/> tokens at <paramref name="startPos"/>.. (queries [n, n_head × head_dim]).</summary>
    public void Record(int layer, ReadOnlySpan<float> q, int startPos, int n)
    {
        int width = HeadCount * HeadDim, first = Math.Max(0, n - QueryWindow);
        if (layer == 0)
        {
            // Tokens arrive in order; a jump (a new sequence) starts the record again.
            QueryCount = startPos == _next ? Math.Min(QueryWindow, QueryCount + n) : Math.Min(QueryWindow, n);
            _next = startPos + n;
            for (int t = first; t < n; t++)
            {
                _positions[(startPos + t) % QueryWindow] = startPos + t;
            }
        }
        for (int t = first; t < n; t++)
        {
            q.Slice(t * width, width).CopyTo(_queries[layer].AsSpan((startPos + t) % QueryWindow * width, width));
        }
    }

    /// <summary>Forgets every recorded query.</summary>
    public void Clear()
    {
        QueryCount = 0;
        _next = -1;
    }

    private int Slot(int i)
    {
        if ((uint)i >= (uint)QueryCount)
        {
            throw new ArgumentOutOfRangeException(nameof(i), i, $"{QueryCount} queries are recorded");
        }
        return (_next - QueryCount + i) % QueryWindow;
    }
}
