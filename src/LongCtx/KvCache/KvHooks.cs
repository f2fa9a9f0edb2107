using LongCtx.Attention;
using LongCtx.Models;
using LongCtx.Tensors;

namespace LongCtx.KvCache;

/// <summary>
/// What the forward pass calls between writing a layer's K,V and its attention, on behalf of the
/// KV methods of one session: recording queries and accumulated attention for a press, and
/// running a selector on single-token steps. With nothing armed it does nothing.
/// </summary>
internal sealed class KvHooks(ModelConfig config, WorkerPool pool)
{
    private readonly KvSelection _selection = new(config.HeadCountKv);

    /// <summary>The query record a press asked for, or null.</summary>
    public KvObservations? Observations { get; set; }
    /// <summary>Chooses the entries each decode step reads, or null for all.</summary>
    public IKvSelector? Selector { get; set; }

    /// <summary>Whether anything is armed.</summary>
    public bool Active => Observations != null || Selector != null;

    /// <summary>
    /// Called once per layer after the batch's keys and values are in the cache.
    /// Returns the entries each KV head reads (single-token steps with a selector), or null for all.
    /// </summary>
    /// <param name="layer">Layer index.</param>
    /// <param name="q">Post-RoPE queries of the batch [n, n_head × head_dim] (the forward state's buffer).</param>
    /// <param name="startPos">Position of the first token.</param>
    /// <param name="n">Tokens in the batch.</param>
    /// <param name="cache">The cache.</param>
    public KvSelection? BeforeAttention(int layer, float[] q, int startPos, int n, KvCache cache)
    {
        int width = config.HeadCount * config.HeadDim;
        Observations?.Record(layer, q.AsSpan(0, n * width), startPos, n);
        if (cache.TracksAttention)
        {
            pool.For(cache.HeadCountKv, new AccumulateWork(q, n, layer, cache, config));
        }
        if (n != 1 || Selector is null)
        {
            return null;
        }
        pool.For(cache.HeadCountKv, new SelectWork(q, layer, cache, config, Selector, _selection));
        return _selection;
    }

    /// <summary>H2O: adds each query's softmax weights to the entries it saw (one KV head per item).</summary>
    private readonly struct AccumulateWork(float[] q, int n, int layer, KvCache cache, ModelConfig c) : IParallelWork
    {
        public void Execute(int start, int end)
        {
            int hd = c.HeadDim, group = c.KvGroup;
            float scale = 1f / MathF.Sqrt(hd);
            for (int kvh = start; kvh < end; kvh++)
            {
                KvHeadView view = cache.Head(layer, kvh);
                Span<float> acc = cache.AccumulatedAttention(layer, kvh);
                for (int t = 0; t < n; t++)
                {
                    int count = view.Count - (n - 1 - t);
                    for (int g = 0; g < group; g++)
                    {
                        ReadOnlySpan<float> qh = q.AsSpan((t * c.HeadCount + kvh * group + g) * hd, hd);
                        KvScoring.AddAttention(qh, view, count, scale, acc);
                    }
                }
            }
        }
    }

    private readonly struct SelectWork(float[] q, int layer, KvCache cache, ModelConfig c, IKvSelector selector, KvSelection selection) : IParallelWork
    {
        public void Execute(int start, int end)
        {
            int hd = c.HeadDim, group = c.KvGroup;
            for (int kvh = start; kvh < end; kvh++)
            {
                Span<int> buffer = selection.Buffer(kvh, cache.Count(layer, kvh));
                int chosen = selector.Select(cache, layer, kvh, q.AsSpan(kvh * group * hd, group * hd), buffer);
                selection.SetCount(kvh, chosen);
            }
        }
    }
}
