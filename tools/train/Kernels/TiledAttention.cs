using System.Runtime.Intrinsics;
using LongCtx.Tensors;

namespace LongCtx.Train.Kernels;

/// <summary>Shapes of one causal self-attention call: B sequences of T tokens, GQA heads.</summary>
/// <param name="Batch">Sequences (B).</param>
/// <param name="Length">Tokens per sequence (T).</param>
/// <param name="Heads">Query heads.</param>
/// <param name="KvHeads">Key/value heads; query head h reads KV head h / (Heads / KvHeads).</param>
/// <param name="HeadDim">Dimension of each head (a multiple of 16 for the SIMD path).</param>
internal readonly record struct AttentionShape(int Batch, int Length, int Heads, int KvHeads, int HeadDim)
{
    /// <summary>Query heads per KV head.</summary>
    public int Group => Heads / KvHeads;
    /// <summary>Width of a token's query (or output) row.</summary>
    public int QWidth => Heads * HeadDim;
    /// <summary>Width of a token's key (or value) row.</summary>
    public int KvWidth => KvHeads * HeadDim;
    /// <summary>1/√d, the score scale.</summary>
    public float Scale => 1f / MathF.Sqrt(HeadDim);
}

/// <summary>
/// Causal attention forward and backward, tiled by query blocks (FlashAttention-2's recompute
/// idea, arXiv:2307.08691): a block of 64 query rows meets its whole causal prefix of keys at
/// once, so each row's softmax is exact in one pass (no running rescale), and the forward stores
/// only the output and the log-sum-exp. The backward recomputes the block's probabilities from Q,
/// K and the log-sum-exp. Memory is O(64·T) per thread; no T×T matrix exists.
/// Layouts: q, o [B·T, Heads·hd]; k, v [B·T, KvHeads·hd]; lse [B, Heads, T].
/// <see cref="AttentionReference"/> is the plain specification the tests compare against.
/// </summary>
internal static unsafe class TiledAttention
{
    internal const int Tile = 64;

    /// <summary>o = softmax(q·kᵀ/√d + causal mask)·v per head; lse = log Σ exp(scores) per query row.</summary>
    public static void Forward(AttentionShape s, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        Span<float> o, Span<float> lse, WorkerPool pool)
    {
        Check(s, q.Length, k.Length, v.Length, o.Length, lse.Length);
        long t0 = Profile.Start();
        fixed (float* pq = q, pk = k, pv = v, po = o, pl = lse)
        {
            pool.For(s.Batch * s.Heads, new ForwardWork { S = s, Q = pq, K = pk, V = pv, O = po, Lse = pl, Call = Interlocked.Increment(ref s_calls) });
        }
        Profile.Stop(Profile.Attention, t0);
    }

    /// <summary>
    /// Gradients of the attention output: writes dq, dk, dv (overwriting) from dout, given the
    /// forward's q, k, v, o and lse.
    /// </summary>
    public static void Backward(AttentionShape s, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        ReadOnlySpan<float> o, ReadOnlySpan<float> lse, ReadOnlySpan<float> dout,
        Span<float> dq, Span<float> dk, Span<float> dv, WorkerPool pool)
    {
        Check(s, q.Length, k.Length, v.Length, o.Length, lse.Length);
        Check(s, dq.Length, dk.Length, dv.Length, dout.Length, lse.Length);
        long t0 = Profile.Start();
        fixed (float* pq = q, pk = k, pv = v, po = o, pl = lse, pdo = dout, pdq = dq, pdk = dk, pdv = dv)
        {
            pool.For(s.Batch * s.KvHeads, new BackwardWork
            {
                S = s, Q = pq, K = pk, V = pv, O = po, Lse = pl, DOut = pdo, DQ = pdq, DK = pdk, DV = pdv,
            });
        }
        Profile.Stop(Profile.Attention, t0);
    }

    private static void Check(AttentionShape s, int q, int k, int v, int o, int lse)
    {
        long n = (long)s.Batch * s.Length;
        if (s.Heads % s.KvHeads != 0) throw new ArgumentException($"{s.Heads} heads are not a multiple of {s.KvHeads} KV heads");
        if (q < n * s.QWidth || o < n * s.QWidth || k < n * s.KvWidth || v < n * s.KvWidth || lse < n * s.Heads)
            throw new ArgumentException($"attention buffers too small for {s}");
    }

    private static long s_calls;

    private static int Padded(int length) => (length + Tile - 1) / Tile * Tile;

    /// <summary>Extra floats per row of the transposed K/V and of P: rows a multiple of 4 KB apart
    /// would share L1 sets (a 2048-token row is 8 KB), which cost a third of the score kernel's speed.</summary>
    private const int Pad = 16;

    /// <summary>Per-thread buffers, grown on demand and reused across calls.</summary>
    private sealed class Scratch
    {
        [ThreadStatic] private static Scratch? t_current;
        /// <summary>The (call, sequence, KV head) whose K and V the buffers hold: query heads of one group share them.</summary>
        public (long Call, int Sequence, int KvHead) Cached = (-1, -1, -1);
        public float[] Q = [], Kt = [], K = [], V = [], Vt = [], DO = [], DQ = [], DK = [], DV = [], P = [], DP = [], Row = [];

        public static Scratch Get(int tp, int hd)
        {
            Scratch sc = t_current ??= new Scratch();
            int n = (tp + Pad) * hd;
            if (sc.Q.Length < n)
            {
                sc.Cached = (-1, -1, -1);
                sc.Q = new float[n]; sc.Kt = new float[n]; sc.K = new float[n]; sc.V = new float[n]; sc.Vt = new float[n];
                sc.DO = new float[n]; sc.DQ = new float[n]; sc.DK = new float[n]; sc.DV = new float[n];
            }
            if (sc.P.Length < Tile * (tp + Pad))
            {
                sc.P = new float[Tile * (tp + Pad)]; sc.DP = new float[Tile * (tp + Pad)]; sc.Row = new float[2 * tp];
                sc.Cached = (-1, -1, -1);
            }
            return sc;
        }
    }

    /// <summary>
    /// Copies head columns [col, col+hd) of T rows (stride <paramref name="width"/>) into a Tp×hd
    /// block, times <paramref name="scale"/>, or transposed into hd rows of stride Tp + Pad; zero padding.
    /// </summary>
    private static void Gather(float* src, int width, int col, int t, int tp, int hd, float scale, float* dst, bool transposed)
    {
        int ld = transposed ? tp + Pad : hd;
        if (transposed)
        {
            // Scale is 1 for the transposed operands (K and V).
            Transpose.Block(src + col, width, t, hd, dst, ld);
        }
        else
        {
            for (int i = 0; i < t; i++) Softmax.ScaleTo(src + (long)i * width + col, hd, scale, dst + (long)i * hd);
        }
        for (int i = t; i < tp; i++)
        {
            for (int c = 0; c < hd; c++) dst[transposed ? (long)c * ld + i : (long)i * hd + c] = 0;
        }
    }

    private struct ForwardWork : IParallelWork
    {
        public AttentionShape S;
        public float* Q, K, V, O, Lse;
        public long Call;

        public readonly void Execute(int start, int end)
        {
            int t = S.Length, hd = S.HeadDim, tp = Padded(t);
            Scratch sc = Scratch.Get(tp, hd);
            fixed (float* q = sc.Q, kt = sc.Kt, v = sc.V, p = sc.P, acc = sc.DQ)
            {
                for (int item = start; item < end; item++)
                {
                    int b = item / S.Heads, h = item % S.Heads, g = h / S.Group;
                    long rows = (long)b * t;
                    Gather(Q + rows * S.QWidth, S.QWidth, h * hd, t, tp, hd, S.Scale, q, transposed: false);
                    if (sc.Cached != (Call, b, g))
                    {
                        Gather(K + rows * S.KvWidth, S.KvWidth, g * hd, t, tp, hd, 1f, kt, transposed: true);
                        Gather(V + rows * S.KvWidth, S.KvWidth, g * hd, t, tp, hd, 1f, v, transposed: false);
                        sc.Cached = (Call, b, g);
                    }
                    for (int i0 = 0; i0 < t; i0 += Tile)
                    {
                        // Scores of 64 queries against their causal prefix: (Q/√d)·Kᵀ      [64, i0+64]
                        int w = i0 + Tile, pw = w + Pad;
                        TileGemm.Multiply(Tile, w, hd, q + (long)i0 * hd, hd, 1, kt, tp + Pad, p, pw, false);
                        int n = Math.Min(Tile, t - i0);
                        for (int r = 0; r < Tile; r++)
                        {
                            // Row r sees keys 0..i0+r: exact softmax numerators, masked tail zeroed
                            float* row = p + (long)r * pw;
                            int valid = r < n ? i0 + r + 1 : 0;
                            float max = Softmax.Max(row, valid);
                            float sum = Softmax.ExpShift(row, valid, max);
                            new Span<float>(row + valid, w - valid).Clear();
                            if (r < n) Lse[((long)b * S.Heads + h) * t + i0 + r] = max + MathF.Log(sum);
                            sc.Row[r] = 1f / sum;
                        }
                        // O = P·V / Σ                                                     [64, hd]
                        TileGemm.Multiply(Tile, hd, w, p, pw, 1, v, hd, acc, hd, false);
                        for (int r = 0; r < n; r++)
                        {
                            Softmax.ScaleTo(acc + r * hd, hd, sc.Row[r], O + (rows + i0 + r) * S.QWidth + h * hd);
                        }
                    }
                }
            }
        }
    }

    private struct BackwardWork : IParallelWork
    {
        public AttentionShape S;
        public float* Q, K, V, O, Lse, DOut, DQ, DK, DV;

        public readonly void Execute(int start, int end)
        {
            int t = S.Length, hd = S.HeadDim, tp = Padded(t);
            Scratch sc = Scratch.Get(tp, hd);
            sc.Cached = (-1, -1, -1);
            fixed (float* q = sc.Q, kt = sc.Kt, kr = sc.K, vt = sc.Vt, dO = sc.DO, dQ = sc.DQ, dK = sc.DK, dV = sc.DV,
                   p = sc.P, dp = sc.DP, row = sc.Row)
            {
                for (int item = start; item < end; item++)
                {
                    int b = item / S.KvHeads, g = item % S.KvHeads;
                    long rows = (long)b * t;
                    Gather(K + rows * S.KvWidth, S.KvWidth, g * hd, t, tp, hd, 1f, kt, transposed: true);
                    Gather(K + rows * S.KvWidth, S.KvWidth, g * hd, t, tp, hd, 1f, kr, transposed: false);
                    Gather(V + rows * S.KvWidth, S.KvWidth, g * hd, t, tp, hd, 1f, vt, transposed: true);
                    new Span<float>(dK, tp * hd).Clear();
                    new Span<float>(dV, tp * hd).Clear();
                    for (int h = g * S.Group; h < (g + 1) * S.Group; h++)
                    {
                        Gather(Q + rows * S.QWidth, S.QWidth, h * hd, t, tp, hd, S.Scale, q, transposed: false);
                        Gather(DOut + rows * S.QWidth, S.QWidth, h * hd, t, tp, hd, 1f, dO, transposed: false);
                        // Per query row: log-sum-exp and D = dO·O (the softmax backward's row term)
                        float* lse = row, dd = row + tp;
                        for (int i = 0; i < t; i++)
                        {
                            lse[i] = Lse[((long)b * S.Heads + h) * t + i];
                            dd[i] = Softmax.Dot(dO + (long)i * hd, O + (rows + i) * S.QWidth + h * hd, hd);
                        }
                        for (int i0 = 0; i0 < t; i0 += Tile)
                        {
                            int w = i0 + Tile, pw = w + Pad, n = Math.Min(Tile, t - i0);
                            // P = exp((Q/√d)·Kᵀ − lse), recomputed; zero past each row's last key   [64, w]
                            TileGemm.Multiply(Tile, w, hd, q + (long)i0 * hd, hd, 1, kt, tp + Pad, p, pw, false);
                            for (int r = 0; r < Tile; r++)
                            {
                                float* prow = p + (long)r * pw;
                                int valid = r < n ? i0 + r + 1 : 0;
                                if (valid > 0) Softmax.ExpShift(prow, valid, lse[i0 + r]);
                                new Span<float>(prow + valid, w - valid).Clear();
                            }
                            // dV += Pᵀ·dO                                                     [w, hd]
                            TileGemm.Multiply(w, hd, Tile, p, 1, pw, dO + (long)i0 * hd, hd, dV, hd, true);
                            // dP = dO·Vᵀ; dS = P ⊙ (dP − D)                                    [64, w]
                            TileGemm.Multiply(Tile, w, hd, dO + (long)i0 * hd, hd, 1, vt, tp + Pad, dp, pw, false);
                            for (int r = 0; r < Tile; r++)
                            {
                                int valid = r < n ? i0 + r + 1 : 0;
                                Softmax.SoftmaxGrad(p + (long)r * pw, dp + (long)r * pw, valid, r < n ? dd[i0 + r] : 0);
                                new Span<float>(dp + (long)r * pw + valid, w - valid).Clear();
                            }
                            // dQ = dS·K (×1/√d below); dK += dSᵀ·(Q/√d)                        [64, hd], [w, hd]
                            TileGemm.Multiply(Tile, hd, w, dp, pw, 1, kr, hd, dQ + (long)i0 * hd, hd, false);
                            TileGemm.Multiply(w, hd, Tile, dp, 1, pw, q + (long)i0 * hd, hd, dK, hd, true);
                        }
                        for (int i = 0; i < t; i++)
                        {
                            Softmax.ScaleTo(dQ + (long)i * hd, hd, S.Scale, DQ + (rows + i) * S.QWidth + h * hd);
                        }
                    }
                    for (int i = 0; i < t; i++)
                    {
                        new Span<float>(dK + (long)i * hd, hd).CopyTo(new Span<float>(DK + (rows + i) * S.KvWidth + g * hd, hd));
                        new Span<float>(dV + (long)i * hd, hd).CopyTo(new Span<float>(DV + (rows + i) * S.KvWidth + g * hd, hd));
                    }
                }
            }
        }
    }
}
