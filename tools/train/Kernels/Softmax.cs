using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using LongCtx.Tensors;

namespace LongCtx.Train.Kernels;

/// <summary>Row operations of the attention tiles and the loss (AVX-512 with scalar tails; exp is ggml's vectorized expf).</summary>
internal static unsafe class Softmax
{
    private static bool Simd => Cpu.Simd;

    /// <summary>max of x[0..n); −∞ for n = 0.</summary>
    public static float Max(float* x, int n)
    {
        int i = 0;
        float m = float.NegativeInfinity;
        if (Simd && n >= 16)
        {
            Vector512<float> v = Vector512.Load(x);
            for (i = 16; i + 16 <= n; i += 16) v = Vector512.Max(v, Vector512.Load(x + i));
            m = MaxLanes(v);
        }
        for (; i < n; i++) m = MathF.Max(m, x[i]);
        return m;
    }

    private static float MaxLanes(Vector512<float> v)
    {
        Vector256<float> a = Vector256.Max(v.GetLower(), v.GetUpper());
        Vector128<float> b = Vector128.Max(a.GetLower(), a.GetUpper());
        b = Vector128.Max(b, Vector128.Shuffle(b, Vector128.Create(2, 3, 0, 1)));
        b = Vector128.Max(b, Vector128.Shuffle(b, Vector128.Create(1, 0, 3, 2)));
        return b.ToScalar();
    }

    /// <summary>x[i] = exp(x[i] − shift) for i &lt; n; returns their sum. A shift of +∞ gives zeros.</summary>
    public static float ExpShift(float* x, int n, float shift)
    {
        int i = 0;
        float sum = 0;
        if (Simd)
        {
            Vector512<float> s = Vector512.Create(shift), acc = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16)
            {
                Vector512<float> e = GgmlExp.Exp(Vector512.Load(x + i) - s);
                e.Store(x + i);
                acc += e;
            }
            sum = Vector512.Sum(acc);
        }
        for (; i < n; i++)
        {
            float e = MathF.Exp(x[i] - shift);
            x[i] = e;
            sum += e;
        }
        return sum;
    }

    /// <summary>x[i] *= a.</summary>
    public static void Scale(float* x, int n, float a) => ScaleTo(x, n, a, x);

    /// <summary>y[i] = a·x[i].</summary>
    public static void ScaleTo(float* x, int n, float a, float* y)
    {
        int i = 0;
        if (Simd)
        {
            Vector512<float> va = Vector512.Create(a);
            for (; i + 16 <= n; i += 16) (Vector512.Load(x + i) * va).Store(y + i);
        }
        for (; i < n; i++) y[i] = a * x[i];
    }

    /// <summary>Σ a[i]·b[i] (float lanes, then summed).</summary>
    public static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float sum = 0;
        if (Simd)
        {
            Vector512<float> acc = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc);
            sum = Vector512.Sum(acc);
        }
        for (; i < n; i++) sum = MathF.FusedMultiplyAdd(a[i], b[i], sum);
        return sum;
    }

    /// <summary>Softmax backward for one row: dp[i] = p[i]·(dp[i] − d), where d = Σ p·dp (here dO·O).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SoftmaxGrad(float* p, float* dp, int n, float d)
    {
        int i = 0;
        if (Simd)
        {
            Vector512<float> vd = Vector512.Create(d);
            for (; i + 16 <= n; i += 16) (Vector512.Load(p + i) * (Vector512.Load(dp + i) - vd)).Store(dp + i);
        }
        for (; i < n; i++) dp[i] = p[i] * (dp[i] - d);
    }
}
