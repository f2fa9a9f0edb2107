using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LongCtx.Tensors;

/// <summary>
/// y = W·x for a weight matrix in ggml layout, as llama.cpp's CPU mul_mat does it: activations are
/// first converted to the weight type's vec_dot_type (<see cref="ActivationQuantize"/>), then
/// integer (or float) dot products are scaled and summed. The kernels (<see cref="Kernels.Level"/>)
/// are chosen once at start-up; the weight rows are split over the pool's threads.
/// </summary>
public static class MatMul
{
    // Weight rows per unit of parallel work: a multiple of every kernel's register tile.
    private const int RowGroup = 16;

    /// <summary>
    /// Computes y[t·rows + r] = dot(weight row r, x[t·cols .. t·cols+cols)) for t in [0, n).
    /// </summary>
    /// <param name="weightType">A supported type (<see cref="GgmlTypeInfo.IsSupported"/>).</param>
    /// <param name="weights"><paramref name="rows"/> contiguous rows of RowSize(type, cols) bytes.</param>
    /// <param name="rows">Output features.</param>
    /// <param name="cols">Input features; a multiple of the type's block size.</param>
    /// <param name="x">n·cols activations, token-major.</param>
    /// <param name="n">Tokens.</param>
    /// <param name="y">n·rows outputs, token-major.</param>
    /// <param name="pool">Threads to split the weight rows over.</param>
    /// <param name="scratch">Reused buffer for the converted activations.</param>
    /// <exception cref="ArgumentException">Unsupported type, bad cols, or spans too short.</exception>
    public static unsafe void Compute(GgmlType weightType, byte* weights, int rows, int cols, ReadOnlySpan<float> x, int n,
        Span<float> y, WorkerPool pool, MatMulScratch scratch) =>
        Compute(weightType, weights, rows, cols, x, n, y, pool, scratch, Kernels.Level, interleaved: false);

    /// <summary>Span overload of <see cref="Compute(GgmlType, byte*, int, int, ReadOnlySpan{float}, int, Span{float}, WorkerPool, MatMulScratch)"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="weights"/> is shorter than rows·RowSize(type, cols), or as the pointer overload.</exception>
    public static unsafe void Compute(GgmlType weightType, ReadOnlySpan<byte> weights, int rows, int cols, ReadOnlySpan<float> x, int n,
        Span<float> y, WorkerPool pool, MatMulScratch scratch)
    {
        long need = GgmlTypeInfo.RowSize(weightType, cols) * rows;
        if (weights.Length < need) throw new ArgumentException($"weights hold {weights.Length} bytes, need {need}", nameof(weights));
        fixed (byte* w = weights)
        {
            Compute(weightType, w, rows, cols, x, n, y, pool, scratch);
        }
    }

    /// <summary>The product with an explicit kernel level and summation order (tests, benchmarks, and weights llama.cpp repacks).</summary>
    internal static unsafe void Compute(GgmlType weightType, byte* weights, int rows, int cols, ReadOnlySpan<float> x, int n,
        Span<float> y, WorkerPool pool, MatMulScratch scratch, KernelLevel level, bool interleaved)
    {
        GgmlType actType = ActivationQuantize.VecDotType(weightType);
        if (cols % GgmlTypeInfo.BlockSize(weightType) != 0)
        {
            throw new ArgumentException($"{cols} columns are not whole {GgmlTypeInfo.Name(weightType)} blocks", nameof(cols));
        }
        if (x.Length < (long)n * cols) throw new ArgumentException($"x holds {x.Length} values, need {n}·{cols}", nameof(x));
        if (y.Length < (long)n * rows) throw new ArgumentException($"y holds {y.Length} values, need {n}·{rows}", nameof(y));
        if (rows <= 0 || n <= 0) return;
        if (!Kernels.IsSupported(level)) throw new ArgumentException($"this CPU cannot run {level} kernels", nameof(level));

        byte* buffer = scratch.Get(PackedActivations.BytesNeeded(actType, cols, n), out byte[] keepAlive);
        fixed (float* py = y)
        {
            var work = new Work
            {
                Kernel = Kernel(weightType, level, interleaved),
                Job = new MatMulJob
                {
                    W = weights,
                    RowBytes = GgmlTypeInfo.RowSize(weightType, cols),
                    Rows = rows,
                    Cols = cols,
                    A = PackedActivations.Pack(actType, x, n, cols, buffer),
                    Y = py,
                    Interleaved = interleaved,
                },
            };
            pool.For((rows + RowGroup - 1) / RowGroup, work);
        }
        GC.KeepAlive(keepAlive);
    }

    /// <summary>The kernel of a weight type at a level, in llama.cpp's repacked order where <paramref name="interleaved"/> (x86 levels).</summary>
    internal static unsafe delegate*<in MatMulJob, int, int, void> Kernel(GgmlType weightType, KernelLevel level, bool interleaved = false) => weightType switch
    {
        GgmlType.Q4_0 when interleaved && level >= KernelLevel.Avx2 => &MatMulInterleaved.Q4_0,
        GgmlType.Q4_K when interleaved && level >= KernelLevel.Avx2 => &MatMulK<Q4_KInterleavedBlock>.X86,
        GgmlType.Q4_K when level >= KernelLevel.Avx2 => &MatMulK<Q4_KBlock>.X86,
        GgmlType.Q5_K when level >= KernelLevel.Avx2 => &MatMulK<Q5_KBlock>.X86,
        GgmlType.Q6_K when level >= KernelLevel.Avx2 => &MatMulK<Q6_KBlock>.X86,
        GgmlType.Q8_0 => level switch
        {
            KernelLevel.Scalar => &MatMulQ32<Q8_0Block>.Scalar,
            KernelLevel.Portable => &MatMulQ32<Q8_0Block>.Portable,
            _ => &MatMulQ32<Q8_0Block>.X86,
        },
        GgmlType.Q4_0 => level switch
        {
            KernelLevel.Scalar => &MatMulQ32<Q4_0Block>.Scalar,
            KernelLevel.Portable => &MatMulQ32<Q4_0Block>.Portable,
            _ => &MatMulQ32<Q4_0Block>.X86,
        },
        GgmlType.Q5_0 => level switch
        {
            KernelLevel.Scalar => &MatMulQ32<Q5_0Block>.Scalar,
            KernelLevel.Portable => &MatMulQ32<Q5_0Block>.Portable,
            _ => &MatMulQ32<Q5_0Block>.X86,
        },
        GgmlType.F32 => &RowWise.F32,
        GgmlType.F16 => &RowWise.F16,
        GgmlType.BF16 => DotBf16.Kernel(DotBf16.OrderFor(level)),
        GgmlType.Q4_K => &RowWise.Q4_K,
        GgmlType.Q5_K => &RowWise.Q5_K,
        GgmlType.Q6_K => &RowWise.Q6_K,
        _ => throw new ArgumentException($"no matmul for {GgmlTypeInfo.Name(weightType)} weights", nameof(weightType)),
    };

    /// <summary>The dot kernel of a weight type against its vec_dot_type (SIMD where the CPU has it).</summary>
    internal static unsafe delegate*<byte*, byte*, int, float> Dot(GgmlType weightType) => weightType switch
    {
        GgmlType.F32 => &DotFloat.F32,
        GgmlType.F16 => &DotFloat.F16,
        GgmlType.BF16 => &DotFloat.BF16,
        GgmlType.Q8_0 => &DotQ8.Q8_0,
        GgmlType.Q4_0 => &DotQ8.Q4_0,
        GgmlType.Q4_K => &DotK.Q4_K,
        GgmlType.Q5_K => &DotK.Q5_K,
        GgmlType.Q6_K => &DotK.Q6_K,
        _ => throw new ArgumentException($"no matmul for {GgmlTypeInfo.Name(weightType)} weights", nameof(weightType)),
    };

    /// <summary>One dot product per (row, token) for the types without a tiled kernel yet.</summary>
    private static unsafe class RowWise
    {
        public static void F32(in MatMulJob j, int r0, int r1) => Run(j, r0, r1, &DotFloat.F32);
        public static void F16(in MatMulJob j, int r0, int r1) => Run(j, r0, r1, &DotFloat.F16);
        public static void Q4_K(in MatMulJob j, int r0, int r1) => Run(j, r0, r1, &Q4_KScalar);
        public static void Q5_K(in MatMulJob j, int r0, int r1) => Run(j, r0, r1, &Q5_KScalar);
        public static void Q6_K(in MatMulJob j, int r0, int r1) => Run(j, r0, r1, &DotK.Q6_KScalar);

        private static float Q4_KScalar(byte* w, byte* a, int n) => DotK.Q45_KScalar(w, a, n, false);
        private static float Q5_KScalar(byte* w, byte* a, int n) => DotK.Q45_KScalar(w, a, n, true);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Run(in MatMulJob j, int r0, int r1, delegate*<byte*, byte*, int, float> dot)
        {
            for (int t = 0; t < j.A.N; t++)
            {
                byte* a = j.A.Row(t);
                float* yt = j.Y + (long)t * j.Rows;
                for (int r = r0; r < r1; r++) yt[r] = dot(j.Row(r), a, j.Cols);
            }
        }
    }

    [StructLayout(LayoutKind.Auto)]
    private unsafe struct Work : IParallelWork
    {
        public delegate*<in MatMulJob, int, int, void> Kernel;
        public MatMulJob Job;

        public readonly void Execute(int start, int end) =>
            Kernel(Job, start * RowGroup, Math.Min(Job.Rows, end * RowGroup));
    }
}
