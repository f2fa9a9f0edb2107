using System.Runtime.Intrinsics;
using LongCtx.Tensors;

namespace LongCtx.Train.Kernels;

/// <summary>
/// RMSNorm over rows, y = x·r·w with r = 1/√(mean(x²) + ε), and its backward:
/// dx = r·(dy⊙w) − x·r³·Σ(dy⊙w⊙x)/d, dw = Σ_rows dy⊙x·r.
/// </summary>
internal static unsafe class RmsNormOp
{
    /// <summary>Row chunks of the dw reduction: fixed, so the sum order does not depend on the thread count.</summary>
    private const int Chunks = 16;

    /// <summary>y[r] = RMSNorm(x[r])·w for each of the <c>rstd.Length</c> rows; rstd receives r.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, float eps, Span<float> y, Span<float> rstd, WorkerPool pool)
    {
        int d = w.Length, rows = rstd.Length;
        if (x.Length < rows * d || y.Length < rows * d) throw new ArgumentException("RMSNorm buffers too small");
        long t0 = Profile.Start();
        fixed (float* px = x, pw = w, py = y, pr = rstd)
        {
            pool.For(rows, new ForwardWork { X = px, W = pw, Y = py, R = pr, D = d, Eps = eps });
        }
        Profile.Stop(Profile.Norm, t0);
    }

    /// <summary>dx (+)= ∂L/∂x and dw += ∂L/∂w from dy, given the forward's x and rstd.</summary>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> rstd,
        Span<float> dx, Span<float> dw, bool accumulate, WorkerPool pool)
    {
        int d = w.Length, rows = rstd.Length;
        if (x.Length < rows * d || dy.Length < rows * d || dx.Length < rows * d || dw.Length < d) throw new ArgumentException("RMSNorm buffers too small");
        var partial = new float[Chunks * d];
        long t0 = Profile.Start();
        fixed (float* pdy = dy, px = x, pw = w, pr = rstd, pdx = dx, pp = partial)
        {
            pool.For(Chunks, new BackwardWork { DY = pdy, X = px, W = pw, R = pr, DX = pdx, Partial = pp, D = d, Rows = rows, Add = accumulate });
        }
        Profile.Stop(Profile.Norm, t0);
        for (int c = 0; c < Chunks; c++)
        {
            Vec.Add(partial.AsSpan(c * d, d), dw[..d]);
        }
    }

    private struct ForwardWork : IParallelWork
    {
        public float* X, W, Y, R;
        public int D;
        public float Eps;

        public readonly void Execute(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                float* x = X + (long)r * D, y = Y + (long)r * D;
                float rs = 1f / MathF.Sqrt(Vec.Dot(x, x, D) / D + Eps);
                R[r] = rs;
                int i = 0;
                if (Cpu.Simd)
                {
                    var vr = Vector512.Create(rs);
                    for (; i + 16 <= D; i += 16) (Vector512.Load(x + i) * vr * Vector512.Load(W + i)).Store(y + i);
                }
                for (; i < D; i++) y[i] = x[i] * rs * W[i];
            }
        }
    }

    private struct BackwardWork : IParallelWork
    {
        public float* DY, X, W, R, DX, Partial;
        public int D, Rows;
        public bool Add;

        public readonly void Execute(int start, int end)
        {
            for (int c = start; c < end; c++)
            {
                float* dw = Partial + (long)c * D;
                int r0 = (int)((long)Rows * c / Chunks), r1 = (int)((long)Rows * (c + 1) / Chunks);
                for (int r = r0; r < r1; r++)
                {
                    float* dy = DY + (long)r * D, x = X + (long)r * D, dx = DX + (long)r * D;
                    float rs = R[r];
                    // Σ dy·w·x, then dx = r·dy·w − x·(r³/d)·Σ
                    float s = 0;
                    for (int i = 0; i < D; i++) s += dy[i] * W[i] * x[i];
                    float k = rs * rs * rs * s / D;
                    int j = 0;
                    if (Cpu.Simd)
                    {
                        Vector512<float> vr = Vector512.Create(rs), vk = Vector512.Create(k);
                        for (; j + 16 <= D; j += 16)
                        {
                            Vector512<float> vdy = Vector512.Load(dy + j), vx = Vector512.Load(x + j);
                            Vector512<float> g = vr * vdy * Vector512.Load(W + j) - vx * vk;
                            (Add ? g + Vector512.Load(dx + j) : g).Store(dx + j);
                            Vector512.FusedMultiplyAdd(vdy, vx * vr, Vector512.Load(dw + j)).Store(dw + j);
                        }
                    }
                    for (; j < D; j++)
                    {
                        float g = rs * dy[j] * W[j] - x[j] * k;
                        dx[j] = Add ? dx[j] + g : g;
                        dw[j] = MathF.FusedMultiplyAdd(dy[j], x[j] * rs, dw[j]);
                    }
                }
            }
        }
    }
}
