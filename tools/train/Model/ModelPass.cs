using LongCtx.Tensors;
using LongCtx.Train.Kernels;

namespace LongCtx.Train.Model;

/// <summary>
/// One forward and backward pass over some sequences of a batch, with its own activations and
/// threads: the trainer runs one pass per core on separate sequences (data parallel, one join per
/// step), or one pass over the whole batch with every core inside each op.
/// Reads top to bottom like the inference forward pass in src/LongCtx/Models/Transformer.cs, which
/// computes the same function on the exported GGUF:
/// embed → blocks { RMSNorm → Q,K,V → RoPE → causal attention → W_o → residual → RMSNorm → SwiGLU →
/// W_down → residual } → final RMSNorm → logits through the tied embedding.
/// </summary>
internal sealed class ModelPass(TrainModel model, WorkerPool pool)
{
    private readonly WorkerPool _pool = pool;
    private readonly ModelShape Shape = model.Shape;
    private readonly ParamLayout Layout = model.Layout;
    private Activations? _a;
    private float[] _rope = [];
    private int _ropeLength;
    private int _headRows, _firstRow;
    private float[] _grads = [];

    private Span<float> P(ParamTensor t) => model.P(t);
    private Span<float> G(ParamTensor t) => _grads.AsSpan(checked((int)t.Offset), t.Length);

    /// <summary>
    /// Forward and backward over sequences [first, first + count) of <paramref name="batch"/>.
    /// Adds Σ w·CE / <paramref name="totalWeight"/> over them to the result and writes its gradient
    /// into <paramref name="grads"/> (overwritten).
    /// </summary>
    public double ForwardBackward(Batch batch, int first, int count, double totalWeight, float[] grads)
    {
        _grads = grads;
        Array.Clear(grads);
        int length = batch.Length, offset = first * length, n = count * length;
        ReadOnlySpan<int> tokens = batch.Tokens.AsSpan(offset, n);
        Activations a = Prepare(count, length);
        Forward(tokens, count, length, a);

        // Rows that carry loss, with their share of the batch mean
        int rows = 0;
        for (int i = 0; i < n && totalWeight > 0; i++)
        {
            float w = batch.Weights[offset + i];
            if (w <= 0) continue;
            a.HeadRows[rows] = i;
            a.HeadTargets[rows] = batch.Targets[offset + i];
            a.HeadScale[rows] = (float)(w / totalWeight);
            rows++;
        }
        _headRows = rows;
        _firstRow = offset;
        Array.Clear(a.DX);
        double loss = 0;
        if (rows > 0)
        {
            long t0 = Profile.Start();
            loss = HeadLossAndGradient(a, rows);
            Profile.Stop(Profile.Head, t0);
        }
        Backward(tokens, count, length, a);
        return loss;
    }

    /// <summary>Cross-entropy and greedy hit of the last pass's weighted positions, at their batch rows.</summary>
    public void LastLosses(Span<float> loss, Span<bool> hit)
    {
        if (_a == null) return;
        for (int r = 0; r < _headRows; r++)
        {
            loss[_firstRow + _a.HeadRows[r]] = _a.HeadLoss[r];
            hit[_firstRow + _a.HeadRows[r]] = _a.HeadHit[r];
        }
    }

    /// <summary>Logits of every position, [B·T, vocab] (tests and evaluation; no gradients).</summary>
    public void Logits(ReadOnlySpan<int> tokens, int sequences, int length, Span<float> logits)
    {
        Activations a = Prepare(sequences, length);
        Forward(tokens, sequences, length, a);
        int n = sequences * length, d = Shape.Dim;
        RmsNormOp.Forward(a.X[Shape.Layers].AsSpan(0, n * d), P(Layout.OutputNorm), Shape.RmsEps, a.HeadH, a.HeadRstd.AsSpan(0, n), _pool);
        Gemm.Multiply(false, true, n, Shape.Vocab, d, a.HeadH, d, P(Layout.Embedding), d, logits, Shape.Vocab, false, _pool);
    }

    private Activations Prepare(int sequences, int length)
    {
        int n = sequences * length;
        if (_a == null || _a.Tokens != n) _a = null;
        _a ??= new Activations(Shape, n);
        if (_ropeLength < length)
        {
            _rope = RopeOp.Table(length, Shape.HeadDim, Shape.RopeBase);
            _ropeLength = length;
        }
        return _a;
    }

    private void Forward(ReadOnlySpan<int> tokens, int sequences, int length, Activations a)
    {
        ModelShape s = Shape;
        int n = sequences * length, d = s.Dim, hd = s.HeadDim, nq = s.Heads * hd, nkv = s.KvHeads * hd, f = s.Ffn;
        var attention = new AttentionShape(sequences, length, s.Heads, s.KvHeads, hd);

        // Token embeddings                                                          [N, d]
        EmbeddingOp.Forward(P(Layout.Embedding), d, tokens, a.X[0]);

        for (int l = 0; l < s.Layers; l++)
        {
            BlockParams w = Layout.Blocks[l];
            float[] x = a.X[l];

            // h = RMSNorm(x)·attn_norm; Q, K, V = h·W_qᵀ, h·W_kᵀ, h·W_vᵀ             [N, nq], [N, nkv]
            RmsNormOp.Forward(x, P(w.AttnNorm), s.RmsEps, a.H1[l], a.Rstd1[l], _pool);
            Linear(a.H1[l], w.Wq, a.Q[l], n, false);
            Linear(a.H1[l], w.Wk, a.K[l], n, false);
            Linear(a.H1[l], w.Wv, a.V[l], n, false);

            // RoPE on adjacent pairs (llama.cpp's normal mode for arch llama)
            RopeOp.Apply(a.Q[l], nq, hd, length, _rope, inverse: false, _pool);
            RopeOp.Apply(a.K[l], nkv, hd, length, _rope, inverse: false, _pool);

            // Causal attention, tiled; GQA: head h reads KV head h / (heads / kvHeads)  [N, nq]
            TiledAttention.Forward(attention, a.Q[l], a.K[l], a.V[l], a.O[l], a.Lse[l], _pool);

            // Residual: x_mid = x + o·W_oᵀ                                            [N, d]
            x.AsSpan(0, n * d).CopyTo(a.XMid[l]);
            Linear(a.O[l], w.Wo, a.XMid[l], n, true);

            // Feed-forward: x_out = x_mid + (silu(h2·W_gateᵀ) ⊙ h2·W_upᵀ)·W_downᵀ
            RmsNormOp.Forward(a.XMid[l], P(w.FfnNorm), s.RmsEps, a.H2[l], a.Rstd2[l], _pool);
            Linear(a.H2[l], w.Wgate, a.Gate[l], n, false);
            Linear(a.H2[l], w.Wup, a.Up[l], n, false);
            SwiGluOp.Forward(a.Gate[l].AsSpan(0, n * f), a.Up[l], a.Act, _pool);
            a.XMid[l].AsSpan(0, n * d).CopyTo(a.X[l + 1]);
            Linear(a.Act, w.Wdown, a.X[l + 1], n, true);
        }
    }

    /// <summary>
    /// Final norm, logits through the tied embedding and cross-entropy for the gathered rows, in
    /// chunks of <see cref="Activations.HeadChunk"/> so that no [N, vocab] buffer exists. Leaves
    /// ∂L/∂x of those rows in DX (zero elsewhere) and adds ∂L/∂embedding.
    /// </summary>
    private double HeadLossAndGradient(Activations a, int rows)
    {
        int d = Shape.Dim, vocab = Shape.Vocab;
        float[] xFinal = a.X[Shape.Layers];
        for (int r = 0; r < rows; r++)
        {
            xFinal.AsSpan(a.HeadRows[r] * d, d).CopyTo(a.HeadX.AsSpan(r * d, d));
        }
        RmsNormOp.Forward(a.HeadX.AsSpan(0, rows * d), P(Layout.OutputNorm), Shape.RmsEps, a.HeadH, a.HeadRstd.AsSpan(0, rows), _pool);
        Span<float> embedding = P(Layout.Embedding), dEmbedding = G(Layout.Embedding);
        double loss = 0;
        for (int r0 = 0; r0 < rows; r0 += Activations.HeadChunk)
        {
            int m = Math.Min(Activations.HeadChunk, rows - r0);
            Span<float> h = a.HeadH.AsSpan(r0 * d, m * d), logits = a.Logits.AsSpan(0, m * vocab);
            // logits = h·Eᵀ; then in place: dlogits = w/Σw · (softmax − onehot)          [m, vocab]
            Gemm.Multiply(false, true, m, vocab, d, h, d, embedding, d, logits, vocab, false, _pool);
            loss += CrossEntropyOp.ForwardBackward(logits, vocab, a.HeadTargets.AsSpan(r0, m), a.HeadScale.AsSpan(r0, m),
                a.HeadLoss.AsSpan(r0, m), a.HeadHit.AsSpan(r0, m), _pool);
            // dh = dlogits·E; dE += dlogitsᵀ·h
            Gemm.Multiply(false, false, m, d, vocab, logits, vocab, embedding, d, a.HeadDH.AsSpan(r0 * d, m * d), d, false, _pool);
            Gemm.Multiply(true, false, vocab, d, m, logits, vocab, h, d, dEmbedding, d, true, _pool);
        }
        // Back through the final norm into the gathered rows, then scattered to DX
        RmsNormOp.Backward(a.HeadDH.AsSpan(0, rows * d), a.HeadX.AsSpan(0, rows * d), P(Layout.OutputNorm), a.HeadRstd.AsSpan(0, rows),
            a.HeadH, G(Layout.OutputNorm), false, _pool);
        for (int r = 0; r < rows; r++)
        {
            a.HeadH.AsSpan(r * d, d).CopyTo(a.DX.AsSpan(a.HeadRows[r] * d, d));
        }
        return loss;
    }

    private void Backward(ReadOnlySpan<int> tokens, int sequences, int length, Activations a)
    {
        ModelShape s = Shape;
        int n = sequences * length, d = s.Dim, hd = s.HeadDim, nq = s.Heads * hd, nkv = s.KvHeads * hd, f = s.Ffn;
        var attention = new AttentionShape(sequences, length, s.Heads, s.KvHeads, hd);
        float[] dx = a.DX;

        for (int l = s.Layers - 1; l >= 0; l--)
        {
            BlockParams w = Layout.Blocks[l];

            // Feed-forward: dW_down += dxᵀ·act; dact = dx·W_down (act recomputed)     [N, ffn]
            SwiGluOp.Forward(a.Gate[l].AsSpan(0, n * f), a.Up[l], a.Act, _pool);
            LinearBackward(dx, a.Act, w.Wdown, a.DAct, n, false);
            SwiGluOp.Backward(a.DAct, a.Gate[l].AsSpan(0, n * f), a.Up[l], a.DGate, a.DUp, _pool);
            // dh2 = dgate·W_gate + dup·W_up; then through the norm into the residual gradient
            LinearBackward(a.DGate, a.H2[l], w.Wgate, a.DH, n, false);
            LinearBackward(a.DUp, a.H2[l], w.Wup, a.DH, n, true);
            RmsNormOp.Backward(a.DH, a.XMid[l], P(w.FfnNorm), a.Rstd2[l], dx, G(w.FfnNorm), true, _pool);

            // Attention output: dW_o += dxᵀ·o; do = dx·W_o                             [N, nq]
            LinearBackward(dx, a.O[l], w.Wo, a.DO, n, false);
            TiledAttention.Backward(attention, a.Q[l], a.K[l], a.V[l], a.O[l], a.Lse[l], a.DO, a.DQ, a.DK, a.DV, _pool);

            // RoPE is a rotation: its backward rotates the gradients back
            RopeOp.Apply(a.DQ, nq, hd, length, _rope, inverse: true, _pool);
            RopeOp.Apply(a.DK, nkv, hd, length, _rope, inverse: true, _pool);

            // dh1 = dq·W_q + dk·W_k + dv·W_v; then through the norm into the residual gradient
            LinearBackward(a.DQ, a.H1[l], w.Wq, a.DH, n, false);
            LinearBackward(a.DK, a.H1[l], w.Wk, a.DH, n, true);
            LinearBackward(a.DV, a.H1[l], w.Wv, a.DH, n, true);
            RmsNormOp.Backward(a.DH, a.X[l], P(w.AttnNorm), a.Rstd1[l], dx, G(w.AttnNorm), true, _pool);
        }

        // Embedding rows receive the residual gradient (tied: added to the logits' share)
        EmbeddingOp.Backward(dx.AsSpan(0, n * d), d, tokens, G(Layout.Embedding), _pool);
    }

    /// <summary>y [N, rows] (+)= x [N, cols] · Wᵀ.</summary>
    private void Linear(ReadOnlySpan<float> x, ParamTensor w, Span<float> y, int n, bool accumulate) =>
        Gemm.Multiply(false, true, n, w.Rows, w.Cols, x, w.Cols, P(w), w.Cols, y, w.Rows, accumulate, _pool);

    /// <summary>For y = x·Wᵀ: dW += dyᵀ·x, and dx (+)= dy·W.</summary>
    private void LinearBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ParamTensor w, Span<float> dx, int n, bool accumulateDx)
    {
        Gemm.Multiply(true, false, w.Rows, w.Cols, n, dy, w.Rows, x, w.Cols, G(w), w.Cols, true, _pool);
        Gemm.Multiply(false, false, n, w.Cols, w.Rows, dy, w.Rows, P(w), w.Cols, dx, w.Cols, accumulateDx, _pool);
    }
}
