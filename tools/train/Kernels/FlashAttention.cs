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
/// Causal attention forward and backward in tiles (FlashAttention-2, arXiv:2307.08691): the
/// forward keeps a running max and sum per query row and stores only the log-sum-exp; the
/// backward recomputes each score tile from Q, K and the log-sum-exp, so no T×T matrix is ever
/// stored. Layouts: q, o [B·T, Heads·hd]; k, v [B·T, KvHeads·hd]; lse [B, Heads, T].
/// <see cref="AttentionReference"/> is the plain specification the tests compare against.
/// </summary>
internal static unsafe class FlashAttention
{
    internal const int Tile = 64;

    /// <summary>o = softmax(q·kᵀ/√d + causal mask)·v per head; lse = log Σ exp(scores) per query row.</summary>
    public static void Forward(AttentionShape s, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        Span<float> o, Span<float> lse, WorkerPool pool)
    {
        Check(s, q.Length, k.Length, v.Length, o.Length, lse.Length);
        fixed (float* pq = q, pk = k, pv = v, po = o, pl = lse)
        {
            pool.For(s.Batch * s.Heads, new ForwardWork { S = s, Q = pq, K = pk, V = pv, O = po, Lse = pl });
        }
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
        fixed (float* pq = q, pk = k, pv = v, po = o, pl = lse, pdo = dout, pdq = dq, pdk = dk, pdv = dv)
        {
            pool.For(s.Batch * s.KvHeads, new BackwardWork
            {
                S = s, Q = pq, K = pk, V = pv, O = po, Lse = pl, DOut = pdo, DQ = pdq, DK = pdk, DV = pdv,
            });
        }
    }

    private static void Check(AttentionShape s, int q, int k, int v, int o, int lse)
    {
        long n = (long)s.Batch * s.Length;
        if (s.Heads % s.KvHeads != 0) throw new ArgumentException($"{s.Heads} heads are not a multiple of {s.KvHeads} KV heads");
        if (q < n * s.QWidth || o < n * s.QWidth || k < n * s.KvWidth || v < n * s.KvWidth || lse < n * s.Heads)
            throw new ArgumentException($"attention buffers too small for {s}");
    }

    private static int Padded(int length) => (length + Tile - 1) / Tile * Tile;

    /// <summary>Per-thread tiles, grown on demand and reused across calls.</summary>
    private sealed class Scratch
    {
        [ThreadStatic] private static Scratch? t_current;
        public float[] Q = [], Kt = [], K = [], V = [], Vt = [], DO = [], DQ = [], DK = [], DV = [], Sc = [], P = [], Acc = [], Row = [];

        public static Scratch Get(int tp, int hd)
        {
            Scratch sc = t_current ??= new Scratch();
            int n = tp * hd;
            if (sc.Q.Length < n)
            {
                sc.Q = new float[n]; sc.Kt = new float[n]; sc.K = new float[n]; sc.V = new float[n]; sc.Vt = new float[n];
                sc.DO = new float[n]; sc.DQ = new float[n]; sc.DK = new float[n]; sc.DV = new float[n];
                sc.Row = new float[4 * tp];
            }
            if (sc.Sc.Length < Tile * Tile)
            {
                sc.Sc = new float[Tile * Tile]; sc.P = new float[Tile * Tile];
            }
            if (sc.Acc.Length < Tile * hd) sc.Acc = new float[Tile * hd];
            return sc;
        }
    }

    /// <summary>Copies head columns [col, col+hd) of T rows (stride <paramref name="width"/>) into a Tp×hd block, times <paramref name="scale"/>, zero padding.</summary>
    private static void Gather(float* src, int width, int col, int t, int tp, int hd, float scale, float* dst, bool transposed)
    {
        for (int i = 0; i < t; i++)
        {
            float* row = src + (long)i * width + col;
            if (transposed)
            {
                for (int c = 0; c < hd; c++) dst[(long)c * tp + i] = row[c] * scale;
            }
            else
            {
                for (int c = 0; c < hd; c++) dst[(long)i * hd + c] = row[c] * scale;
            }
        }
        for (int i = t; i < tp; i++)
        {
            for (int c = 0; c < hd; c++) dst[transposed ? (long)c * tp + i : (long)i * hd + c] = 0;
        }
    }

    private struct ForwardWork : IParallelWork
    {
        public AttentionShape S;
        public float* Q, K, V, O, Lse;

        public readonly void Execute(int start, int end)
        {
            int t = S.Length, hd = S.HeadDim, tp = Padded(t);
            Scratch sc = Scratch.Get(tp, hd);
            fixed (float* q = sc.Q, kt = sc.Kt, v = sc.V, st = sc.Sc, acc = sc.Acc, row = sc.Row)
            {
                for (int item = start; item < end; item++)
                {
                    int b = item / S.Heads, h = item % S.Heads, g = h / S.Group;
                    long rows = (long)b * t;
                    Gather(Q + rows * S.QWidth, S.QWidth, h * hd, t, tp, hd, S.Scale, q, transposed: false);
                    Gather(K + rows * S.KvWidth, S.KvWidth, g * hd, t, tp, hd, 1f, kt, transposed: true);
                    Gather(V + rows * S.KvWidth, S.KvWidth, g * hd, t, tp, hd, 1f, v, transposed: false);
                    float* m = row, l = row + Tile;
                    for (int i0 = 0; i0 < t; i0 += Tile)
                    {
                        new Span<float>(acc, Tile * hd).Clear();
                        new Span<float>(m, Tile).Fill(float.NegativeInfinity);
                        new Span<float>(l, Tile).Clear();
                        for (int j0 = 0; j0 <= i0; j0 += Tile)
                        {
                            // S = (Q/√d)·Kᵀ for the tile                                 [64, 64]
                            TileGemm.Multiply(Tile, Tile, hd, q + (long)i0 * hd, hd, 1, kt + j0, tp, st, Tile, false);
                            bool diagonal = j0 == i0;
                            for (int r = 0; r < Tile; r++)
                            {
                                float* srow = st + r * Tile;
                                int valid = diagonal ? r + 1 : Tile;
                                float mx = Softmax.Max(srow, valid);
                                float mNew = MathF.Max(m[r], mx);
                                float alpha = MathF.Exp(m[r] - mNew);
                                float sum = Softmax.ExpShift(srow, valid, mNew);
                                for (int c = valid; c < Tile; c++) srow[c] = 0;
                                l[r] = l[r] * alpha + sum;
                                m[r] = mNew;
                                if (alpha != 1f) Softmax.Scale(acc + r * hd, hd, alpha);
                            }
                            // acc += P·V                                                  [64, hd]
                            TileGemm.Multiply(Tile, hd, Tile, st, Tile, 1, v + (long)j0 * hd, hd, acc, hd, true);
                        }
                        int n = Math.Min(Tile, t - i0);
                        for (int r = 0; r < n; r++)
                        {
                            float* dst = O + (rows + i0 + r) * S.QWidth + h * hd;
                            Softmax.ScaleTo(acc + r * hd, hd, 1f / l[r], dst);
                            Lse[((long)b * S.Heads + h) * t + i0 + r] = m[r] + MathF.Log(l[r]);
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
            fixed (float* q = sc.Q, kt = sc.Kt, kr = sc.K, v = sc.V, vt = sc.Vt, dO = sc.DO, dQ = sc.DQ, dK = sc.DK, dV = sc.DV,
                   p = sc.P, dp = sc.Sc, row = sc.Row)
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
                        new Span<float>(dQ, tp * hd).Clear();
                        // Per query row: its log-sum-exp (+∞ on padding, so P = 0 there) and D = dO·O.
                        float* lse = row, dd = row + tp;
                        for (int i = 0; i < tp; i++)
                        {
                            if (i >= t)
                            {
                                lse[i] = float.PositiveInfinity;
                                dd[i] = 0;
                                continue;
                            }
                            lse[i] = Lse[((long)b * S.Heads + h) * t + i];
                            dd[i] = Softmax.Dot(dO + (long)i * hd, O + (rows + i) * S.QWidth + h * hd, hd);
                        }
                        for (int j0 = 0; j0 < t; j0 += Tile)
                        {
                            for (int i0 = j0; i0 < t; i0 += Tile)
                            {
                                // P = exp(Q·Kᵀ/√d − lse), recomputed                        [64, 64]
                                TileGemm.Multiply(Tile, Tile, hd, q + (long)i0 * hd, hd, 1, kt + j0, tp, p, Tile, false);
                                bool diagonal = i0 == j0;
                                for (int r = 0; r < Tile; r++)
                                {
                                    float* prow = p + r * Tile;
                                    int valid = diagonal ? r + 1 : Tile;
                                    Softmax.ExpShift(prow, valid, lse[i0 + r]);
                                    for (int c = valid; c < Tile; c++) prow[c] = 0;
                                }
                                // dV += Pᵀ·dO                                                [64, hd]
                                TileGemm.Multiply(Tile, hd, Tile, p, 1, Tile, dO + (long)i0 * hd, hd, dV + (long)j0 * hd, hd, true);
                                // dP = dO·Vᵀ; dS = P ⊙ (dP − D)                               [64, 64]
                                TileGemm.Multiply(Tile, Tile, hd, dO + (long)i0 * hd, hd, 1, vt + j0, tp, dp, Tile, false);
                                for (int r = 0; r < Tile; r++)
                                {
                                    Softmax.SoftmaxGrad(p + r * Tile, dp + r * Tile, Tile, dd[i0 + r]);
                                }
                                // dQ += dS·K (scaled below); dK += dSᵀ·(Q/√d)                [64, hd]
                                TileGemm.Multiply(Tile, hd, Tile, dp, Tile, 1, kr + (long)j0 * hd, hd, dQ + (long)i0 * hd, hd, true);
                                TileGemm.Multiply(Tile, hd, Tile, dp, 1, Tile, q + (long)i0 * hd, hd, dK + (long)j0 * hd, hd, true);
                            }
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
