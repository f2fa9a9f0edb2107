using System.Runtime.Intrinsics;

namespace LongCtx.Train.Kernels;

/// <summary>Small vector helpers (AVX-512 with scalar tails).</summary>
internal static unsafe class Vec
{
    /// <summary>Σ a[i]·b[i].</summary>
    public static float Dot(float* a, float* b, int n) => Softmax.Dot(a, b, n);

    /// <summary>y += x.</summary>
    public static void Add(ReadOnlySpan<float> x, Span<float> y)
    {
        fixed (float* px = x, py = y)
        {
            int i = 0, n = x.Length;
            if (Cpu.Simd)
            {
                for (; i + 16 <= n; i += 16) (Vector512.Load(px + i) + Vector512.Load(py + i)).Store(py + i);
            }
            for (; i < n; i++) py[i] += px[i];
        }
    }
}
