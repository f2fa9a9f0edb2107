using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using LongCtx.Tensors;

namespace LongCtx.Train.Kernels;

/// <summary>
/// Blocked fp32 matrix product C (+)= op(A)·op(B), the way BLIS/GotoBLAS structure it: a Kc×Nc panel
/// of B and an Mc×Kc block of A are packed into micro-panels, and an Mr×Nr register-tiled
/// micro-kernel (AVX-512 FMA) runs over them. Threads split the C tiles of one packed B panel;
/// every element of C is summed by one thread in a fixed order, so results do not depend on the
/// thread count or scheduling (a resumed run repeats bit for bit).
/// </summary>
internal static unsafe class Gemm
{
    internal const int Mr = 12, Nr = 32;
    private const int Kc = 256, Mc = 96, KChunk = 1024;

    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float[]? t_packB;

    /// <summary>True where the AVX-512 micro-kernel runs; elsewhere a scalar micro-kernel does.</summary>
    internal static bool Simd => Cpu.Simd;

    /// <summary>
    /// C[m×n] = (accumulate ? C : 0) + op(A)[m×k] · op(B)[k×n]. op(A)(i,p) is a[i·lda + p], or
    /// a[p·lda + i] when <paramref name="transA"/>; op(B)(p,j) is b[p·ldb + j], or b[j·ldb + p] when
    /// <paramref name="transB"/>. C is row-major with leading dimension <paramref name="ldc"/>.
    /// Two dispatches: all of op(B) is packed once, then threads take (row block, column group) tiles.
    /// The packing buffers are per calling thread, so data-parallel passes may call it at once.
    /// </summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate, WorkerPool pool)
    {
        if (m <= 0 || n <= 0) return;
        long t0 = Profile.Start();
        try
        {
            // Long reductions (the dW products sum over every token) go in chunks, so that the
            // packed B panel stays in cache while both threads sweep the A blocks over it.
            int p0 = 0;
            do
            {
                int kc = Math.Min(KChunk, k - p0);
                ReadOnlySpan<float> ac = p0 == 0 ? a : a[(transA ? p0 * lda : p0)..];
                ReadOnlySpan<float> bc = p0 == 0 ? b : b[(transB ? p0 : p0 * ldb)..];
                MultiplyCore(transA, transB, m, n, Math.Max(kc, 0), ac, lda, bc, ldb, c, ldc, accumulate || p0 > 0, pool);
                p0 += KChunk;
            }
            while (p0 < k);
        }
        finally
        {
            Profile.Stop(Profile.Gemm, t0);
        }
    }

    private static void MultiplyCore(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate, WorkerPool pool)
    {
        CheckExtent(a.Length, transA ? k : m, transA ? m : k, lda, nameof(a));
        CheckExtent(b.Length, transB ? n : k, transB ? k : n, ldb, nameof(b));
        CheckExtent(c.Length, m, n, ldc, nameof(c));
        if (k <= 0)
        {
            if (!accumulate)
            {
                for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
            }
            return;
        }
        int slivers = (n + Nr - 1) / Nr;
        long need = (long)slivers * Nr * k;
        if (t_packB == null || t_packB.Length < need) t_packB = new float[need];
        fixed (float* pa = a, pb = b, pc = c, bp = t_packB)
        {
            pool.For(slivers, new PackBWork { B = pb, Ldb = ldb, TransB = transB, N = n, K = k, Dest = bp });
            int blocks = (m + Mc - 1) / Mc;
            // Few row blocks (the dW products, m = a layer's width): split the columns too, each
            // group then packing its own copy of the A block.
            int groups = Math.Clamp((4 * pool.ThreadCount + blocks - 1) / blocks, 1, slivers);
            var work = new TileWork
            {
                A = pa, Lda = lda, TransA = transA, M = m, K = k,
                PackedB = bp, Slivers = slivers, Groups = groups, N = n,
                C = pc, Ldc = ldc, Accumulate = accumulate,
            };
            pool.For(blocks * groups, work);
        }
    }

    private static void CheckExtent(int length, int rows, int cols, int ld, string name)
    {
        if (ld < cols) throw new ArgumentException($"leading dimension {ld} < {cols} columns", name);
        if (rows > 0 && (long)(rows - 1) * ld + cols > length)
            throw new ArgumentException($"{name} holds {length} values, a {rows}×{cols} matrix with leading dimension {ld} needs {(long)(rows - 1) * ld + cols}", name);
    }

    /// <summary>Packs op(B) into Nr-wide slivers: sliver s holds k rows of Nr values (zero-padded past n).</summary>
    private struct PackBWork : IParallelWork
    {
        public float* B, Dest;
        public int Ldb, N, K;
        public bool TransB;

        public readonly void Execute(int start, int end)
        {
            for (int s = start; s < end; s++)
            {
                float* dst = Dest + (long)s * Nr * K;
                int j0 = s * Nr, w = Math.Min(Nr, N - j0);
                if (!TransB)
                {
                    for (int p = 0; p < K; p++)
                    {
                        float* src = B + (long)p * Ldb + j0;
                        float* d = dst + p * Nr;
                        if (w == Nr)
                        {
                            Unsafe.CopyBlockUnaligned(d, src, Nr * sizeof(float));
                        }
                        else
                        {
                            for (int j = 0; j < w; j++) d[j] = src[j];
                            for (int j = w; j < Nr; j++) d[j] = 0;
                        }
                    }
                }
                else
                {
                    // B is stored n×k: sliver column j is row j0+j of B.
                    Transpose.Block(B + (long)j0 * Ldb, Ldb, w, K, dst, Nr);
                    for (int j = w; j < Nr; j++)
                    {
                        for (int p = 0; p < K; p++) dst[p * Nr + j] = 0;
                    }
                }
            }
        }
    }

    /// <summary>One (row block, sliver group) of C per item: per Kc step, packs its A block and runs the micro-kernel.</summary>
    private struct TileWork : IParallelWork
    {
        public float* A, PackedB, C;
        public int Lda, M, K, Slivers, Groups, N, Ldc;
        public bool TransA, Accumulate;

        public readonly void Execute(int start, int end)
        {
            int perGroup = (Slivers + Groups - 1) / Groups;
            float[] buffer = t_packA ??= new float[Mc * Kc];
            float* tile = stackalloc float[Mr * Nr];
            fixed (float* ap = buffer)
            {
                for (int item = start; item < end; item++)
                {
                    int block = item / Groups, group = item % Groups;
                    int i0 = block * Mc, mc = Math.Min(Mc, M - i0);
                    int s0 = group * perGroup, s1 = Math.Min(Slivers, s0 + perGroup);
                    for (int p0 = 0; p0 < K; p0 += Kc)
                    {
                        int kc = Math.Min(Kc, K - p0);
                        bool add = Accumulate || p0 > 0;
                        PackA(ap, i0, mc, p0, kc);
                        for (int s = s0; s < s1; s++)
                        {
                            int j0 = s * Nr, w = Math.Min(Nr, N - j0);
                            float* bs = PackedB + (long)s * Nr * K + (long)p0 * Nr;
                            for (int r0 = 0; r0 < mc; r0 += Mr)
                            {
                                int h = Math.Min(Mr, mc - r0);
                                float* cTile = C + (long)(i0 + r0) * Ldc + j0;
                                float* aSliver = ap + r0 * kc;
                                if (h == Mr && w == Nr)
                                {
                                    Kernel(kc, aSliver, bs, cTile, Ldc, add);
                                    continue;
                                }
                                Kernel(kc, aSliver, bs, tile, Nr, false);
                                for (int r = 0; r < h; r++)
                                {
                                    float* cr = cTile + (long)r * Ldc, tr = tile + r * Nr;
                                    int j = 0;
                                    if (Simd)
                                    {
                                        for (; j + 16 <= w; j += 16) (add ? Vector512.Load(cr + j) + Vector512.Load(tr + j) : Vector512.Load(tr + j)).Store(cr + j);
                                    }
                                    for (; j < w; j++) cr[j] = add ? cr[j] + tr[j] : tr[j];
                                }
                            }
                        }
                    }
                }
            }
        }

        /// <summary>Packs A(i0..i0+mc, p0..p0+kc) into Mr-tall slivers: sliver r holds kc columns of Mr values (zero-padded).</summary>
        private readonly void PackA(float* dst, int i0, int mc, int p0, int kc)
        {
            for (int r0 = 0; r0 < mc; r0 += Mr)
            {
                int h = Math.Min(Mr, mc - r0);
                float* d = dst + r0 * kc;
                if (TransA)
                {
                    // A is stored k×m: each p gives h contiguous values.
                    for (int p = 0; p < kc; p++)
                    {
                        float* src = A + (long)(p0 + p) * Lda + i0 + r0;
                        if (h == Mr)
                        {
                            Unsafe.CopyBlockUnaligned(d + p * Mr, src, Mr * sizeof(float));
                            continue;
                        }
                        for (int r = 0; r < h; r++) d[p * Mr + r] = src[r];
                        for (int r = h; r < Mr; r++) d[p * Mr + r] = 0;
                    }
                }
                else
                {
                    Transpose.Block(A + (long)(i0 + r0) * Lda + p0, Lda, h, kc, d, Mr);
                    for (int r = h; r < Mr; r++)
                    {
                        for (int p = 0; p < kc; p++) d[p * Mr + r] = 0;
                    }
                }
            }
        }
    }

    /// <summary>C[Mr×Nr] (+)= Σ_p a[p·Mr + r] · b[p·Nr + j] over packed slivers.</summary>
    internal static void Kernel(int kc, float* a, float* b, float* c, int ldc, bool add)
    {
        if (Simd) Kernel512(kc, a, b, c, ldc, add);
        else KernelScalar(kc, a, b, c, ldc, add);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512(int kc, float* a, float* b, float* c, int ldc, bool add)
    {
        // 24 accumulators + 2 B vectors + 1 broadcast of the 32 zmm registers.
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default, c90 = default, c91 = default, c100 = default, c101 = default, c110 = default, c111 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16), x;
            x = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]);
            c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]);
            c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
            x = Vector512.Create(a[8]);
            c80 = Avx512F.FusedMultiplyAdd(x, b0, c80); c81 = Avx512F.FusedMultiplyAdd(x, b1, c81);
            x = Vector512.Create(a[9]);
            c90 = Avx512F.FusedMultiplyAdd(x, b0, c90); c91 = Avx512F.FusedMultiplyAdd(x, b1, c91);
            x = Vector512.Create(a[10]);
            c100 = Avx512F.FusedMultiplyAdd(x, b0, c100); c101 = Avx512F.FusedMultiplyAdd(x, b1, c101);
            x = Vector512.Create(a[11]);
            c110 = Avx512F.FusedMultiplyAdd(x, b0, c110); c111 = Avx512F.FusedMultiplyAdd(x, b1, c111);
            a += Mr;
            b += Nr;
        }
        Store(c, c00, c01, add); c += ldc;
        Store(c, c10, c11, add); c += ldc;
        Store(c, c20, c21, add); c += ldc;
        Store(c, c30, c31, add); c += ldc;
        Store(c, c40, c41, add); c += ldc;
        Store(c, c50, c51, add); c += ldc;
        Store(c, c60, c61, add); c += ldc;
        Store(c, c70, c71, add); c += ldc;
        Store(c, c80, c81, add); c += ldc;
        Store(c, c90, c91, add); c += ldc;
        Store(c, c100, c101, add); c += ldc;
        Store(c, c110, c111, add);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> v0, Vector512<float> v1, bool add)
    {
        if (add)
        {
            v0 += Vector512.Load(c);
            v1 += Vector512.Load(c + 16);
        }
        v0.Store(c);
        v1.Store(c + 16);
    }

    /// <summary>The scalar twin of the micro-kernel (same summation order per element: p ascending, fused).</summary>
    internal static void KernelScalar(int kc, float* a, float* b, float* c, int ldc, bool add)
    {
        for (int r = 0; r < Mr; r++)
        {
            for (int j = 0; j < Nr; j++)
            {
                float s = 0;
                for (int p = 0; p < kc; p++) s = MathF.FusedMultiplyAdd(a[p * Mr + r], b[p * Nr + j], s);
                c[(long)r * ldc + j] = add ? c[(long)r * ldc + j] + s : s;
            }
        }
    }

    /// <summary>The plain triple loop: the specification <see cref="Multiply"/> is tested against.</summary>
    public static void Reference(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    s += (double)(transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                }
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + (float)s : (float)s;
            }
        }
    }
}
