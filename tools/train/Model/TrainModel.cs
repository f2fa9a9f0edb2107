using LongCtx.Tensors;
using LongCtx.Train.Kernels;

namespace LongCtx.Train.Model;

/// <summary>
/// The Llama being trained: fp32 parameters and gradients in two flat vectors (see
/// <see cref="ParamLayout"/>). A step runs data parallel: each core takes a contiguous share of the
/// batch's sequences through its own <see cref="ModelPass"/> (single-threaded kernels), and the
/// shares' gradients are summed in a fixed order. One join per step instead of one per op keeps
/// both cores busy on a loaded machine. With one sequence (or one thread) a single pass uses every
/// core inside each op. Results depend on the thread count (the reduction tree), not on timing.
/// </summary>
internal sealed class TrainModel
{
    private readonly WorkerPool _pool;
    private readonly ModelPass _whole;
    private readonly List<(ModelPass Pass, WorkerPool Pool, float[] Grads)> _shards = [];
    private int _lastShards;

    public TrainModel(ModelShape shape, WorkerPool pool)
    {
        Layout = new ParamLayout(shape);
        Shape = shape;
        _pool = pool;
        Params = new float[Layout.Count];
        Grads = new float[Layout.Count];
        _whole = new ModelPass(this, pool);
    }

    public ModelShape Shape { get; }
    public ParamLayout Layout { get; }
    /// <summary>All parameters, in <see cref="Layout"/> order.</summary>
    public float[] Params { get; }
    /// <summary>Gradients of the last <see cref="ForwardBackward"/>, same layout.</summary>
    public float[] Grads { get; }

    public Span<float> P(ParamTensor t) => Params.AsSpan(checked((int)t.Offset), t.Length);
    public Span<float> G(ParamTensor t) => Grads.AsSpan(checked((int)t.Offset), t.Length);

    /// <summary>
    /// GPT-2 style initialization: N(0, 0.02) matrices and embedding, the two residual projections
    /// (W_o, W_down) scaled by 1/√(2·layers), norm gains 1.
    /// </summary>
    public void Initialize(ulong seed)
    {
        var rng = new SplitMix(seed);
        float residual = 0.02f / MathF.Sqrt(2f * Shape.Layers);
        foreach (ParamTensor t in Layout.All)
        {
            Span<float> p = P(t);
            bool norm = t.Rows == 1;
            bool projection = t.Name.EndsWith("attn_output.weight", StringComparison.Ordinal) || t.Name.EndsWith("ffn_down.weight", StringComparison.Ordinal);
            for (int i = 0; i < p.Length; i++)
            {
                p[i] = norm ? 1f : (float)rng.NextGaussian() * (projection ? residual : 0.02f);
            }
        }
    }

    /// <summary>
    /// Forward and backward over one batch. Returns the weighted mean cross-entropy Σ w·CE / Σ w and
    /// overwrites <see cref="Grads"/> with its gradient. A batch whose weights are all zero gives 0
    /// and zero gradients.
    /// </summary>
    public double ForwardBackward(Batch batch)
    {
        double total = 0;
        foreach (float w in batch.Weights) total += w;
        int shards = Math.Min(_pool.ThreadCount, batch.Sequences);
        _lastShards = shards;
        if (shards == 1) return _whole.ForwardBackward(batch, 0, batch.Sequences, total, Grads);

        while (_shards.Count < shards)
        {
            var shardPool = new WorkerPool(1);
            _shards.Add((new ModelPass(this, shardPool), shardPool, new float[Layout.Count]));
        }
        var losses = new double[shards];
        _pool.For(shards, new ShardWork(this, batch, total, shards, losses));
        // Σ of the shards' gradients, shard 0 first
        _shards[0].Grads.CopyTo(Grads, 0);
        for (int r = 1; r < shards; r++) Vec.Add(_shards[r].Grads, Grads);
        double loss = 0;
        foreach (double l in losses) loss += l;
        return loss;
    }

    /// <summary>
    /// Per-position results of the last <see cref="ForwardBackward"/>: cross-entropy and whether the
    /// target was the greedy choice, at positions with weight &gt; 0 (others get NaN and false).
    /// </summary>
    public void LastLosses(Span<float> loss, Span<bool> hit)
    {
        loss.Fill(float.NaN);
        hit.Clear();
        if (_lastShards <= 1) _whole.LastLosses(loss, hit);
        else for (int r = 0; r < _lastShards; r++) _shards[r].Pass.LastLosses(loss, hit);
    }

    /// <summary>Logits of every position, [B·T, vocab] (tests and evaluation; no gradients).</summary>
    public void Logits(ReadOnlySpan<int> tokens, int sequences, int length, Span<float> logits) =>
        _whole.Logits(tokens, sequences, length, logits);

    private readonly struct ShardWork(TrainModel model, Batch batch, double total, int shards, double[] losses) : IParallelWork
    {
        public void Execute(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                int first = batch.Sequences * r / shards, next = batch.Sequences * (r + 1) / shards;
                var (pass, _, grads) = model._shards[r];
                losses[r] = pass.ForwardBackward(batch, first, next - first, total, grads);
            }
        }
    }
}
