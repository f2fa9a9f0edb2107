using LongCtx.Attention;
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
    /// </summary>
    public void Forward(ForwardState s, ReadOnlySpan<int> tokens, int startPos, KvCache.KvCache cache)
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

            // Causal attention over the cache; GQA: query head h reads KV head h / kvGroup
            Attend(s, cache, l, startPos, n);

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
    private void Attend(ForwardState s, KvCache.KvCache cache, int layer, int startPos, int n)
    {
        if (cache.Type != KvCache.KvCacheType.F16 || !TiledAttention.Available || _c.ValueHeadDim % 16 != 0)
        {
            pool.For(n * _c.HeadCount, new AttentionWork(s, cache, layer, startPos, n, _c));
        }
        else if (n == 1)
        {
            pool.For(_c.HeadCountKv, new GroupDecodeWork(s, cache, layer, startPos, _c));
        }
        else
        {
            pool.For(_c.HeadCountKv, new GroupLoadWork(s, cache, layer, startPos + n, _c));
            pool.For(n * _c.HeadCountKv, new GroupBatchWork(s, startPos, _c));
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
    private readonly struct GroupDecodeWork(ForwardState s, KvCache.KvCache cache, int layer, int startPos, ModelConfig c) : IParallelWork
    {
        public void Execute(int start, int end)
        {
            int g = c.KvGroup, hd = c.HeadDim, hdv = c.ValueHeadDim, count = startPos + 1;
            for (int kv = start; kv < end; kv++)
            {
                TiledAttention.Decode(s.Q.AsSpan(kv * g * hd, g * hd), g, cache.KeysF16(layer, kv, count), cache.ValuesF16(layer, kv, count),
                    hd, hdv, count, 1f / MathF.Sqrt(hd), s.Att.AsSpan(kv * g * hdv, g * hdv));
            }
        }
    }

    /// <summary>Widens each KV head once for the whole batch.</summary>
    private readonly struct GroupLoadWork(ForwardState s, KvCache.KvCache cache, int layer, int count, ModelConfig c) : IParallelWork
    {
        public void Execute(int start, int end)
        {
            for (int kv = start; kv < end; kv++)
            {
                s.BatchKv[kv].Load(cache.KeysF16(layer, kv, count), cache.ValuesF16(layer, kv, count), c.HeadDim, c.ValueHeadDim, count);
            }
        }
    }

    /// <summary>One (token, KV head) pair per work item: the group's query heads of that token.</summary>
    private readonly struct GroupBatchWork(ForwardState s, int startPos, ModelConfig c) : IParallelWork
    {
        public void Execute(int start, int end)
        {
            int kvHeads = c.HeadCountKv, heads = c.HeadCount, g = c.KvGroup, hd = c.HeadDim, hdv = c.ValueHeadDim;
            for (int item = start; item < end; item++)
            {
                int t = item / kvHeads, kv = item % kvHeads;
                TiledAttention.Batch(s.Q.AsSpan((t * heads + kv * g) * hd, g * hd), g, s.BatchKv[kv], startPos + t + 1, 1f / MathF.Sqrt(hd),
                    s.Att.AsSpan((t * heads + kv * g) * hdv, g * hdv));
            }
        }
    }

    /// <summary>One (token, query head) pair per work item.</summary>
    private readonly struct AttentionWork(ForwardState s, KvCache.KvCache cache, int layer, int startPos, int n, ModelConfig c) : IParallelWork
    {
        public void Execute(int start, int end)
        {
            int heads = c.HeadCount, hd = c.HeadDim, hdv = c.ValueHeadDim;
            float scale = 1f / MathF.Sqrt(hd);
            for (int item = start; item < end; item++)
            {
                int t = item / heads, h = item % heads;
                DenseAttention.Head(
                    s.Q.AsSpan((t * heads + h) * hd, hd), cache, layer, h / c.KvGroup, startPos + t + 1, scale,
                    s.Att.AsSpan((t * heads + h) * hdv, hdv), batched: n > 1);
            }
        }
    }
}
