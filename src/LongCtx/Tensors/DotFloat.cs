using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LongCtx.Tensors;

/// <summary>
/// Float dot products: F32·F32, F16·F16 and BF16·BF16 (ggml_vec_dot_f32/_f16/_bf16; BF16 SIMD orders in <see cref="DotBf16"/>), widening to
/// float and accumulating with FMA in eight-lane vectors; scalar twins accumulate in double.
/// </summary>
internal static unsafe class DotFloat
{
    public static float F32(byte* w, byte* a, int n) => Fma.IsSupported ? F32Avx2((float*)w, (float*)a, n) : F32Scalar((float*)w, (float*)a, n);
    public static float F16(byte* w, byte* a, int n) => Fma.IsSupported ? F16Avx2((ushort*)w, (ushort*)a, n) : F16Scalar((ushort*)w, (ushort*)a, n);
    /// <summary>BF16 in the order of the llama.cpp build this CPU loads (<see cref="DotBf16"/>).</summary>
    public static float BF16(byte* w, byte* a, int n) => DotBf16.VecDot(Bf16Order, (ushort*)w, (ushort*)a, n);

    private static readonly DotBf16.Order Bf16Order = DotBf16.OrderFor(Kernels.Level);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float F32Scalar(float* x, float* y, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++) s += x[i] * y[i];
        return (float)s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float F16Scalar(ushort* x, ushort* y, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++) s += HalfConversions.Fp16ToFp32(x[i]) * HalfConversions.Fp16ToFp32(y[i]);
        return (float)s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float BF16Scalar(ushort* x, ushort* y, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++) s += HalfConversions.Bf16ToFp32(x[i]) * HalfConversions.Bf16ToFp32(y[i]);
        return (float)s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float F32Avx2(float* x, float* y, int n)
    {
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            acc0 = Fma.MultiplyAdd(Vector256.Load(x + i), Vector256.Load(y + i), acc0);
            acc1 = Fma.MultiplyAdd(Vector256.Load(x + i + 8), Vector256.Load(y + i + 8), acc1);
        }
        for (; i + 8 <= n; i += 8)
        {
            acc0 = Fma.MultiplyAdd(Vector256.Load(x + i), Vector256.Load(y + i), acc0);
        }
        float s = Vector256.Sum(acc0 + acc1);
        for (; i < n; i++) s += x[i] * y[i];
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float F16Avx2(ushort* x, ushort* y, int n)
    {
        Vector256<float> acc = Vector256<float>.Zero;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            acc = Fma.MultiplyAdd(Widen(x + i), Widen(y + i), acc);
        }
        float s = Vector256.Sum(acc);
        for (; i < n; i++) s += HalfConversions.Fp16ToFp32(x[i]) * HalfConversions.Fp16ToFp32(y[i]);
        return s;

        static Vector256<float> Widen(ushort* p) => HalfConversions.Fp16ToFp32(Avx2.ConvertToVector256Int32(p).AsUInt32() << 16);
    }
}
