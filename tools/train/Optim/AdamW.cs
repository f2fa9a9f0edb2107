using System.Runtime.Intrinsics;
using LongCtx.Tensors;
using LongCtx.Train.Kernels;
using LongCtx.Train.Model;

namespace LongCtx.Train.Optim;

/// <summary>Settings of <see cref="AdamW"/>.</summary>
internal sealed record AdamWOptions
{
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.95f;
    public float Epsilon { get; init; } = 1e-8f;
    /// <summary>Decoupled weight decay (Loshchilov &amp; Hutter, arXiv:1711.05101), on matrices and the embedding only.</summary>
    public float WeightDecay { get; init; } = 0.1f;
    /// <summary>Global gradient-norm clip; 0 = off.</summary>
    public float ClipNorm { get; init; } = 1f;
}

/// <summary>
/// AdamW over the flat parameter vector, with global-norm gradient clipping. Its moments and step
/// count are its whole state (saved in checkpoints); every sum runs in a fixed order so a resumed
/// run repeats bit for bit.
/// </summary>
internal sealed unsafe class AdamW
{
    private const int Chunk = 1 << 16;
    private readonly AdamWOptions _o;
    private readonly float[] _decayMask;

    public AdamW(ParamLayout layout, AdamWOptions options)
    {
        _o = options;
        M = new float[layout.Count];
        V = new float[layout.Count];
        _decayMask = new float[layout.Count];
        foreach (ParamTensor t in layout.All)
        {
            if (t.Decay) _decayMask.AsSpan((int)t.Offset, t.Length).Fill(1f);
        }
    }

    /// <summary>First moments.</summary>
    public float[] M { get; }
    /// <summary>Second moments.</summary>
    public float[] V { get; }
    /// <summary>Updates applied so far.</summary>
    public long Step { get; set; }

    /// <summary>Global L2 norm of <paramref name="g"/>: float lanes per chunk, chunks summed in double, in order.</summary>
    public static double Norm(ReadOnlySpan<float> g)
    {
        double total = 0;
        fixed (float* p = g)
        {
            for (int c = 0; c < g.Length; c += Chunk)
            {
                int n = Math.Min(Chunk, g.Length - c);
                total += Softmax.Dot(p + c, p + c, n);
            }
        }
        return Math.Sqrt(total);
    }

    /// <summary>One update with learning rate <paramref name="lr"/>; returns the gradient norm before clipping.</summary>
    public double Update(float[] parameters, float[] grads, float lr, WorkerPool pool)
    {
        long t0 = Profile.Start();
        double norm = Norm(grads);
        float clip = _o.ClipNorm > 0 && norm > _o.ClipNorm ? (float)(_o.ClipNorm / norm) : 1f;
        Step++;
        float bc1 = 1f - MathF.Pow(_o.Beta1, Step), bc2 = 1f - MathF.Pow(_o.Beta2, Step);
        fixed (float* p = parameters, g = grads, m = M, v = V, mask = _decayMask)
        {
            pool.For((parameters.Length + Chunk - 1) / Chunk, new Work
            {
                P = p, G = g, M = m, V = v, Mask = mask, N = parameters.Length,
                Clip = clip, Lr = lr, B1 = _o.Beta1, B2 = _o.Beta2, Eps = _o.Epsilon, Wd = _o.WeightDecay, Bc1 = bc1, Bc2 = bc2,
            });
        }
        Profile.Stop(Profile.Optimizer, t0);
        return norm;
    }

    private struct Work : IParallelWork
    {
        public float* P, G, M, V, Mask;
        public int N;
        public float Clip, Lr, B1, B2, Eps, Wd, Bc1, Bc2;

        public readonly void Execute(int start, int end)
        {
            int i = start * Chunk, stop = Math.Min(N, end * Chunk);
            float stepSize = Lr / Bc1, invSqrtBc2 = 1f / MathF.Sqrt(Bc2), decay = Lr * Wd;
            if (Cpu.Simd)
            {
                Vector512<float> b1 = Vector512.Create(B1), b2 = Vector512.Create(B2), c1 = Vector512.Create(1 - B1), c2 = Vector512.Create(1 - B2);
                Vector512<float> clip = Vector512.Create(Clip), eps = Vector512.Create(Eps), ss = Vector512.Create(stepSize);
                Vector512<float> ib = Vector512.Create(invSqrtBc2), dec = Vector512.Create(decay);
                for (; i + 16 <= stop; i += 16)
                {
                    Vector512<float> g = Vector512.Load(G + i) * clip;
                    Vector512<float> m = b1 * Vector512.Load(M + i) + c1 * g;
                    Vector512<float> v = b2 * Vector512.Load(V + i) + c2 * g * g;
                    m.Store(M + i);
                    v.Store(V + i);
                    Vector512<float> p = Vector512.Load(P + i);
                    p -= dec * Vector512.Load(Mask + i) * p;
                    (p - ss * m / (Vector512.Sqrt(v) * ib + eps)).Store(P + i);
                }
            }
            for (; i < stop; i++)
            {
                float g = G[i] * Clip;
                float m = B1 * M[i] + (1 - B1) * g;
                float v = B2 * V[i] + (1 - B2) * g * g;
                M[i] = m;
                V[i] = v;
                float p = P[i];
                p -= decay * Mask[i] * p;
                P[i] = p - stepSize * m / (MathF.Sqrt(v) * invSqrtBc2 + Eps);
            }
        }
    }
}
