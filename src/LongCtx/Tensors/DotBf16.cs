using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LongCtx.Tensors;

/// <summary>
/// BF16·BF16 matrix products in the summation orders of llama.cpp's x86 CPU backends, so that a
/// BF16 model's activations (rounded to bf16 before every product, which magnifies any upstream
/// last-ulp difference into a whole bf16 step) stay bit-identical with llama.cpp's:
/// <list type="bullet">
/// <item>one token (decode): <c>ggml_vec_dot_bf16</c>;</item>
/// <item>a batch of tokens with a length that is a multiple of the vector step and a row count
/// that is a multiple of 4: tinyBLAS (<c>llamafile_sgemm</c>), one accumulator per output over the
/// whole length, then its horizontal sum; otherwise <c>ggml_vec_dot_bf16</c> per output.</item>
/// </list>
/// Three builds, three orders: with AVX512-BF16 (zen4, cooperlake, sapphirerapids)
/// <c>vdpbf16ps</c> (lane i adds the products of elements 2i+1 then 2i, each sum rounded; a
/// product of two bf16 values is exact in float, so this is plain float adds); with AVX-512F
/// (skylakex, icelake) 16-lane float orders; with AVX2 (haswell) 8-lane float orders.
/// </summary>
internal static unsafe class DotBf16
{
    /// <summary>AVX512-BF16 (CPUID leaf 7 sub-leaf 1, EAX bit 5): llama.cpp then loads a build whose BF16 dot is <c>vdpbf16ps</c>.</summary>
    public static bool CpuHasAvx512Bf16 { get; } = X86Base.IsSupported && Avx512F.IsSupported && (X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;

    /// <summary>Which of ggml's BF16 orders a product follows.</summary>
    public enum Order
    {
        /// <summary>Widen and accumulate in double (the scalar twin).</summary>
        Scalar,
        /// <summary>haswell build: 8-lane float vectors.</summary>
        Avx2,
        /// <summary>skylakex/icelake build: 16-lane float vectors.</summary>
        Avx512,
        /// <summary>zen4/cooperlake/sapphirerapids build: <c>vdpbf16ps</c>.</summary>
        Avx512Bf16,
    }

    /// <summary>The order of the build llama.cpp would load on this CPU, capped at <paramref name="level"/>.</summary>
    public static Order OrderFor(KernelLevel level) => level switch
    {
        KernelLevel.Avx512 => CpuHasAvx512Bf16 ? Order.Avx512Bf16 : Order.Avx512,
        KernelLevel.Avx2 => Order.Avx2,
        _ => Order.Scalar,
    };

    /// <summary>The matmul kernel of an order (<see cref="MatMul.Kernel"/>).</summary>
    public static delegate*<in MatMulJob, int, int, void> Kernel(Order order) => order switch
    {
        Order.Avx512Bf16 => &MatMulAvx512Bf16,
        Order.Avx512 => &MatMulAvx512,
        Order.Avx2 => &MatMulAvx2,
        _ => &MatMulScalar,
    };

    /// <summary>ggml_vec_dot_bf16 in <paramref name="order"/>.</summary>
    public static float VecDot(Order order, ushort* x, ushort* y, int n) => order switch
    {
        Order.Avx512Bf16 => VecDotAvx512Bf16(x, y, n),
        Order.Avx512 => VecDotAvx512(x, y, n),
        Order.Avx2 => VecDotAvx2(x, y, n),
        _ => DotFloat.BF16Scalar(x, y, n),
    };

    /// <summary>tinyBLAS's BF16 dot in <paramref name="order"/> (<paramref name="n"/> a multiple of <see cref="TinyBlasStep"/>).</summary>
    public static float TinyBlas(Order order, ushort* x, ushort* y, int n) => order switch
    {
        Order.Avx512Bf16 => TinyBlasAvx512Bf16(x, y, n),
        Order.Avx512 => TinyBlasAvx512(x, y, n),
        Order.Avx2 => TinyBlasAvx2(x, y, n),
        _ => DotFloat.BF16Scalar(x, y, n),
    };

    /// <summary>tinyBLAS's KN: the lengths its BF16 kernel takes.</summary>
    public static int TinyBlasStep(Order order) => order switch
    {
        Order.Avx512Bf16 => 32,
        Order.Avx512 => 16,
        _ => 8,
    };

    /// <summary>Whether llama.cpp's mul_mat takes tinyBLAS for this product (else vec_dot per output).</summary>
    public static bool UsesTinyBlas(Order order, int rows, int cols, int tokens) =>
        tokens >= 2 && rows % 4 == 0 && cols % TinyBlasStep(order) == 0;

    private static void MatMulScalar(in MatMulJob j, int r0, int r1) => Run(j, r0, r1, Order.Scalar);
    private static void MatMulAvx2(in MatMulJob j, int r0, int r1) => Run(j, r0, r1, Order.Avx2);
    private static void MatMulAvx512(in MatMulJob j, int r0, int r1) => Run(j, r0, r1, Order.Avx512);
    private static void MatMulAvx512Bf16(in MatMulJob j, int r0, int r1) => Run(j, r0, r1, Order.Avx512Bf16);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run(in MatMulJob j, int r0, int r1, Order order)
    {
        bool tiny = order != Order.Scalar && UsesTinyBlas(order, j.Rows, j.Cols, j.A.N);
        for (int t = 0; t < j.A.N; t++)
        {
            ushort* a = (ushort*)j.A.Row(t);
            float* yt = j.Y + (long)t * j.Rows;
            for (int r = r0; r < r1; r++)
            {
                ushort* w = (ushort*)j.Row(r);
                yt[r] = tiny ? TinyBlas(order, w, a, j.Cols) : VecDot(order, w, a, j.Cols);
            }
        }
    }

    // ---- AVX512-BF16: vdpbf16ps ----

    /// <summary>
    /// One <c>vdpbf16ps</c>: lane i += x[2i+1]·y[2i+1], then += x[2i]·y[2i] (round to nearest
    /// each time). The products are exact in float, so multiply-then-add is the instruction.
    /// (The instruction also flushes denormal inputs and outputs to zero; activations and
    /// weights of a working model do not come near 1e-38.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Dpbf16(Vector512<float> acc, ushort* x, ushort* y)
    {
        Vector512<uint> xv = Vector512.Load((uint*)x), yv = Vector512.Load((uint*)y);
        Vector512<uint> high = Vector512.Create(0xFFFF0000u);
        acc += (xv & high).AsSingle() * (yv & high).AsSingle();
        acc += (xv << 16).AsSingle() * (yv << 16).AsSingle();
        return acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float VecDotAvx512Bf16(ushort* x, ushort* y, int n)
    {
        Vector512<float> c1 = default, c2 = default;
        int i = 0;
        for (; i + 64 <= n; i += 64)
        {
            c1 = Dpbf16(c1, x + i, y + i);
            c2 = Dpbf16(c2, x + i + 32, y + i + 32);
        }
        double sum = GgmlExp.ReduceAdd(c1);
        sum += GgmlExp.ReduceAdd(c2);
        return Tail(sum, x, y, i, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float TinyBlasAvx512Bf16(ushort* x, ushort* y, int n)
    {
        Vector512<float> acc = default;
        for (int l = 0; l < n; l += 32)
        {
            acc = Dpbf16(acc, x + l, y + l);
        }
        return GgmlExp.ReduceAdd(acc);
    }

    // ---- AVX-512F ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen16(ushort* p) => (Avx512F.ConvertToVector512UInt32(Vector256.Load(p)) << 16).AsSingle();

    /// <summary>ggml_vec_dot_bf16's AVX-512F branch: two 16-lane accumulators over steps of 32 (GCC contracts its mul+add to FMA).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float VecDotAvx512(ushort* x, ushort* y, int n)
    {
        Vector512<float> c1 = default, c2 = default;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            c1 = Avx512F.FusedMultiplyAdd(Widen16(x + i), Widen16(y + i), c1);
            c2 = Avx512F.FusedMultiplyAdd(Widen16(x + i + 16), Widen16(y + i + 16), c2);
        }
        double sum = GgmlExp.ReduceAdd(c1);
        sum += GgmlExp.ReduceAdd(c2);
        return Tail(sum, x, y, i, n);
    }

    /// <summary>tinyBLAS&lt;16, __m512, __m512, bf16, bf16&gt;: one FMA chain, then _mm512_reduce_add_ps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float TinyBlasAvx512(ushort* x, ushort* y, int n)
    {
        Vector512<float> acc = default;
        for (int l = 0; l < n; l += 16)
        {
            acc = Avx512F.FusedMultiplyAdd(Widen16(x + l), Widen16(y + l), acc);
        }
        return GgmlExp.ReduceAdd(acc);
    }

    // ---- AVX2 ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen8(ushort* p) => (Avx2.ConvertToVector256Int32(p).AsUInt32() << 16).AsSingle();

    /// <summary>ggml_vec_dot_bf16's AVX2 branch: four 8-lane accumulators over steps of 32, folded (c1+c3)+(c2+c4), then hsum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float VecDotAvx2(ushort* x, ushort* y, int n)
    {
        Vector256<float> c1 = default, c2 = default, c3 = default, c4 = default;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            c1 = Fma.MultiplyAdd(Widen8(x + i), Widen8(y + i), c1);
            c2 = Fma.MultiplyAdd(Widen8(x + i + 8), Widen8(y + i + 8), c2);
            c3 = Fma.MultiplyAdd(Widen8(x + i + 16), Widen8(y + i + 16), c3);
            c4 = Fma.MultiplyAdd(Widen8(x + i + 24), Widen8(y + i + 24), c4);
        }
        double sum = Hsum.Float8((c1 + c3) + (c2 + c4));
        return Tail(sum, x, y, i, n);
    }

    /// <summary>tinyBLAS&lt;8, __m256, __m256, bf16, bf16&gt;: one FMA chain, then hsum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float TinyBlasAvx2(ushort* x, ushort* y, int n)
    {
        Vector256<float> acc = default;
        for (int l = 0; l < n; l += 8)
        {
            acc = Fma.MultiplyAdd(Widen8(x + l), Widen8(y + l), acc);
        }
        return Hsum.Float8(acc);
    }

    /// <summary>vec_dot's leftovers: each product in float, summed in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Tail(double sum, ushort* x, ushort* y, int i, int n)
    {
        for (; i < n; i++)
        {
            sum += HalfConversions.Bf16ToFp32(x[i]) * HalfConversions.Bf16ToFp32(y[i]);
        }
        return (float)sum;
    }
}
