using System.Runtime.Intrinsics;
using LongCtx.Tensors;

namespace LongCtx.Train.Kernels;

/// <summary>
/// SwiGLU, a = silu(g)·u with silu(g) = g·σ(g), and its backward:
/// dg = da·u·σ(g)·(1 + g·(1 − σ(g))), du = da·silu(g). σ uses ggml's vectorized expf.
/// </summary>
internal static unsafe class SwiGluOp
{
    private const int Block = 4096;

    public static void Forward(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> act, WorkerPool pool)
    {
        if (up.Length < gate.Length || act.Length < gate.Length) throw new ArgumentException("SwiGLU buffers too small");
        long t0 = Profile.Start();
        fixed (float* g = gate, u = up, a = act)
        {
            pool.For((gate.Length + Block - 1) / Block, new Work { G = g, U = u, A = a, N = gate.Length });
        }
        Profile.Stop(Profile.Elementwise, t0);
    }

    /// <summary>dgate, dup from dact (dgate may alias nothing; dup may not alias dact).</summary>
    public static void Backward(ReadOnlySpan<float> dact, ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> dgate, Span<float> dup, WorkerPool pool)
    {
        int n = gate.Length;
        if (dact.Length < n || up.Length < n || dgate.Length < n || dup.Length < n) throw new ArgumentException("SwiGLU buffers too small");
        long t0 = Profile.Start();
        fixed (float* da = dact, g = gate, u = up, dg = dgate, du = dup)
        {
            pool.For((n + Block - 1) / Block, new Work { DA = da, G = g, U = u, DG = dg, DU = du, N = n, Backward = true });
        }
        Profile.Stop(Profile.Elementwise, t0);
    }

    private struct Work : IParallelWork
    {
        public float* G, U, A, DA, DG, DU;
        public int N;
        public bool Backward;

        public readonly void Execute(int start, int end)
        {
            int i = start * Block, stop = Math.Min(N, end * Block);
            if (Cpu.Simd)
            {
                for (; i + 16 <= stop; i += 16)
                {
                    Vector512<float> g = Vector512.Load(G + i), u = Vector512.Load(U + i);
                    Vector512<float> sig = Vector512<float>.One / (Vector512<float>.One + GgmlExp.Exp(-g));
                    if (!Backward)
                    {
                        (g * sig * u).Store(A + i);
                        continue;
                    }
                    Vector512<float> da = Vector512.Load(DA + i);
                    (da * u * sig * (Vector512<float>.One + g * (Vector512<float>.One - sig))).Store(DG + i);
                    (da * g * sig).Store(DU + i);
                }
            }
            for (; i < stop; i++)
            {
                float g = G[i], u = U[i], sig = 1f / (1f + MathF.Exp(-g));
                if (!Backward)
                {
                    A[i] = g * sig * u;
                    continue;
                }
                float da = DA[i];
                DG[i] = da * u * sig * (1f + g * (1f - sig));
                DU[i] = da * g * sig;
            }
        }
    }
}
