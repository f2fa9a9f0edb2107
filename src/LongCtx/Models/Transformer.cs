using LongCtx.Attention;
using LongCtx.KvCache;
using LongCtx.Tensors;

namespace LongCtx.Models;

/// <summary>
/// The Llama-family forward pass (llama, qwen2, qwen3), top to bottom as in the papers:
/// embed → blocks { RMSNorm → Q,K,V (+bias) → (Q/K norm) → RoPE → cache → attention → output
/// → residual → RMSNorm → SwiGLU → residual } → final norm → logits.
/// </summary>
internal sealed unsafe class Transformer(ModelConfig config, ModelWeights weights, WorkerPool pool)
{
    private readonly ModelConfig _c = config;
    private readonly ModelWeights _w = weights;

    /// <summary>
    /// Runs <paramref name="tokens"/> (at most <see cref="ForwardState.MaxBatch"/>) at positions
    /// startPos.. and writes the logits of the last token into <see cref="ForwardState.Logits"/>.
    /// <paramref name="hooks"/> (a press observing, a selector) run between the cache write and attention.
    /// </summary>
    public void Forward(ForwardState s, ReadOnlySpan<int> tokens, int startPos, KvCache.KvCache cache, KvHooks? hooks = null)
    {
        int n = tokens.Length;
        int d = _c.EmbeddingLength, hd = _c.HeadDim, hdv = _c.ValueHeadDim;
        int nq = _c.HeadCount * hd, nk = _c.HeadCountKv * hd, nv = _c.HeadCountKv * hdv;
        Span<float> x = s.X.AsSpan(0, n * d), xb = s.Xb.AsSpan(0, n * d);

        // Token embeddings: x[t] = token_embd[tokens[t]]                          [n, d]
        for (int t = 0; t < n; t++)
        {
            _w.TokenEmbedding.DequantizeRow(tokens[t], x.Slice(t * d, d));
        }

        // RoPE angles for each position of the batch                              [n, n_rot]
        int nRot = _c.RopeDimensions;
        for (int t = 0; t < n; t++)
        {
            Rope.Angles(startPos + t, nRot, _c.RopeFreqBase, _c.RopeFreqScale, _w.RopeFreqFactors, s.RopeCache.AsSpan(t * nRot, nRot));
        }

        for (int l = 0; l < _c.BlockCount; l++)
        {
            BlockWeights b = _w.Blocks[l];

            // Attention sub-layer: xb = RMSNorm(x) · attn_norm                     [n, d]
            x.CopyTo(xb);
            RmsNorm.ApplyRows(xb, b.AttnNorm, _c.RmsEpsilon);

            // Projections (+ bias for Qwen2)                                       [n, n_head·hd], [n, n_kv·hd]
            Span<float> q = s.Q.AsSpan(0, n * nq), k = s.K.AsSpan(0, n * nk), v = s.V.AsSpan(0, n * nv);
            MatMul(b.Q, xb, n, q, s);
            MatMul(b.K, xb, n, k, s);
            MatMul(b.V, xb, n, v, s);
            AddBias(q, b.QBias);
            AddBias(k, b.KBias);
            AddBias(v, b.VBias);

            // Qwen3: RMSNorm over each head of Q and K, before RoPE
            if (b.QNorm != null)
            {
                RmsNorm.ApplyRows(q, b.QNorm, _c.RmsEpsilon);
                RmsNorm.ApplyRows(k, b.KNorm!, _c.RmsEpsilon);
            }

            // RoPE on Q and K; then append K, V to the cache
            for (int t = 0; t < n; t++)
            {
                ReadOnlySpan<float> angles = s.RopeCache.AsSpan(t * nRot, nRot);
                Rope.Apply(q.Slice(t * nq, nq), hd, angles, _c.Architecture.Rope);
                Rope.Apply(k.Slice(t * nk, nk), hd, angles, _c.Architecture.Rope);
                cache.Write(l, startPos + t, k.Slice(t * nk, nk), v.Slice(t * nv, nv));
            }

            // KV methods: record queries for a press, let a selector choose the entries to read
            KvSelection? selection = hooks?.BeforeAttention(l, s.Q, startPos, n, cache);

            // Causal attention over the cache; GQA: query head h reads KV head h / kvGroup
            Attend(s, cache, l, n, selection);

            // Output projection and residual: x += W_o · att                       [n, d]
            MatMul(b.Output, s.Att.AsSpan(0, n * _c.HeadCount * hdv), n, xb, s);
            Add(x, xb);

            // Feed-forward sub-layer: x += W_down · (silu(W_gate · h) ⊙ W_up · h), h = RMSNorm(x) · ffn_norm
            x.CopyTo(xb);
            RmsNorm.ApplyRows(xb, b.FfnNorm, _c.RmsEpsilon);
            int ffn = _c.FeedForwardLength;
            Span<float> gate = s.Gate.AsSpan(0, n * ffn), up = s.Up.AsSpan(0, n * ffn);
            MatMul(b.Gate, xb, n, gate, s);
            MatMul(b.Up, xb, n, up, s);
            GgmlExp.SwiGlu(gate, up);
            MatMul(b.Down, gate, n, xb, s);
            Add(x, xb);
        }

        // Final norm and logits of the last token                                  [vocab]
        Span<float> last = xb[..d];
        x.Slice((n - 1) * d, d).CopyTo(last);
        RmsNorm.ApplyRows(last, _w.OutputNorm, _c.RmsEpsilon);
        MatMul(_w.Output, last, 1, s.Logits, s);
    }

    /// <summary>
    /// Attention of the batch over the cache: with an F16 cache on AVX-512, each KV head's query
    /// group at once (<see cref="TiledAttention"/>, same sums as <see cref="DenseAttention"/>), else head by head.
    /// </summary>
    private void Attend(ForwardState s, KvCache.KvCache cache, int layer, int n, KvSelection? selection)
    {
        if (selection != null || cache.Type != KvCacheType.F16 || !TiledAttention.Available || _c.ValueHeadDim % 16 != 0)
        {
            pool.For(n * _c.HeadCount, new AttentionWork(s, cache, layer, n, _c, selection));
        }
        else if (n == 1)
        {
            pool.For(_c.HeadCountKv, new GroupDecodeWork(s, cache, layer, _c));
        }
        else
        {
            pool.For(_c.HeadCountKv, new GroupLoadWork(s, cache, layer, _c));
            pool.For(n * _c.HeadCountKv, new GroupBatchWork(s, cache, layer, n, _c));
        }
    }

    private void MatMul(in WeightMatrix w, ReadOnlySpan<float> input, int n, Span<float> output, ForwardState s) =>
        Tensors.MatMul.Compute(w.Type, w.Data, w.Rows, w.Cols, input[..(n * w.Cols)], n, output[..(n * w.Rows)], pool, s.MatMul, Kernels.Level, w.Interleaved);

    private static void AddBias(Span<float> rows, float[]? bias)
    {
        if (bias == null)
        {
            return;
        }
        for (int off = 0; off < rows.Length; off += bias.Length)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(rows.Slice(off, bias.Length), bias, rows.Slice(off, bias.Length));
        }
    }

    private static void Add(Span<float> x, ReadOnlySpan<float> y) => System.Numerics.Tensors.TensorPrimitives.Add(x, y, x);

    /// <summary>One KV head's query group per work item, for a single token.</summary>
    private readonly struct GroupDecodeWork(ForwardState s, KvCache.KvCache cache, int layer, ModelConfig c) : IParallelWork
    {
        public void Execute(int start, int end)
        {
            int g = c.KvGroup, hd = c.HeadDim, hdv = c.ValueHeadDim;
            float scale = 1f / MathF.Sqrt(hd);
            for (int kv = start; kv < end; kv++)
            {
                KvHeadView head = cache.Head(layer, kv);
                if (head.IsPlain)
                {
                    TiledAttention.Decode(s.Q.AsSpan(kv * g * hd, g * hd), g, head.KeysF16, head.ValuesF16, hd, hdv, head.Count, scale, s.Att.AsSpan(kv * g * hdv, g * hdv));
                    continue;
                }
                for (int h = kv * g; h < (kv + 1) * g; h++)
                {
                    DenseAttention.Head(s.Q.AsSpan(h * hd, hd), head, head.Count, scale, s.Att.AsSpan(h * hdv, hdv));
                }
            }
        }
    }

    /// <summary>Widens each plain KV head once for the whole batch.</summary>
    private readonly struct GroupLoadWork(ForwardState s, KvCache.KvCache cache, int layer, ModelConfig c) : IParallelWork
    {
        public void Execute(int start, int end)
        {
            for (int kv = start; kv < end; kv++)
            {
                KvHeadView head = cache.Head(layer, kv);
                if (head.IsPlain)
                {
                    s.BatchKv[kv].Load(head.KeysF16, head.ValuesF16, c.HeadDim, c.ValueHeadDim, head.Count);
                }
            }
        }
    }

    /// <summary>One (token, KV head) pair per work item: the group's query heads of that token.</summary>
    private readonly struct GroupBatchWork(ForwardState s, KvCache.KvCache cache, int layer, int n, ModelConfig c) : IParallelWork
    {
        public void Execute(int start, int end)
        {
            int kvHeads = c.HeadCountKv, heads = c.HeadCount, g = c.KvGroup, hd = c.HeadDim, hdv = c.ValueHeadDim;
            float scale = 1f / MathF.Sqrt(hd);
            for (int item = start; item < end; item++)
            {
                int t = item / kvHeads, kv = item % kvHeads;
                KvHeadView head = cache.Head(layer, kv);
                int visible = head.Count - (n - 1 - t);
                if (head.IsPlain)
                {
                    TiledAttention.Batch(s.Q.AsSpan((t * heads + kv * g) * hd, g * hd), g, s.BatchKv[kv], visible, scale, s.Att.AsSpan((t * heads + kv * g) * hdv, g * hdv));
                    continue;
                }
                for (int h = kv * g; h < (kv + 1) * g; h++)
                {
                    DenseAttention.Head(s.Q.AsSpan((t * heads + h) * hd, hd), head, visible, scale, s.Att.AsSpan((t * heads + h) * hdv, hdv), batched: true);
                }
            }
        }
    }

    /// <summary>
    /// One (token, query head) pair per work item. Token t of the batch sees the entries before
    /// the batch and the batch's first t + 1 (each head's entries are in position order).
    /// </summary>
    private readonly struct AttentionWork(ForwardState s, KvCache.KvCache cache, int layer, int n, ModelConfig c, KvSelection? selection) : IParallelWork
    {
        public void Execute(int start, int end)
        {
            int heads = c.HeadCount, hd = c.HeadDim, hdv = c.ValueHeadDim;
            float scale = 1f / MathF.Sqrt(hd);
            for (int item = start; item < end; item++)
            {
                int t = item / heads, h = item % heads, kvHead = h / c.KvGroup;
                KvHeadView head = cache.Head(layer, kvHead);
                ReadOnlySpan<float> q = s.Q.AsSpan((t * heads + h) * hd, hd);
                Span<float> output = s.Att.AsSpan((t * heads + h) * hdv, hdv);
                if (selection != null && selection.TryGet(kvHead, out ReadOnlySpan<int> chosen))
                {
                    DenseAttention.HeadSelected(q, head, chosen, scale, output);
                }
                else
                {
                    DenseAttention.Head(q, head, head.Count - (n - 1 - t), scale, output, batched: n > 1);
                }
            }
        }
    }
}
