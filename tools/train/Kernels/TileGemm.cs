using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LongCtx.Train.Kernels;

/// <summary>
/// The small products inside attention tiles, unpacked and register-tiled:
/// C[rows×width] (+)= Σ_p a[row·ars + p·aps] · b[p·ldb + col]. The strides of A let one kernel
/// serve S = Q·Kᵀ (A row-major), O += P·V (A = P) and dV += Pᵀ·dO (A = P read transposed).
/// Rows must be a multiple of 8 and width a multiple of 16 (the tiles are padded to that).
/// </summary>
internal static unsafe class TileGemm
{
    /// <summary>True where the AVX-512 path runs; elsewhere the scalar twin does.</summary>
    internal static bool Simd => Cpu.Simd;

    public static void Multiply(int rows, int width, int depth, float* a, int ars, int aps, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        if (!Simd || rows % 8 != 0 || width % 16 != 0)
        {
            Scalar(rows, width, depth, a, ars, aps, b, ldb, c, ldc, accumulate);
            return;
        }
        int col = 0;
        for (; col + 64 <= width; col += 64)
        {
            for (int r = 0; r < rows; r += 4) Kernel4x64(depth, a + (long)r * ars, ars, aps, b + col, ldb, c + (long)r * ldc + col, ldc, accumulate);
        }
        for (; col + 32 <= width; col += 32)
        {
            for (int r = 0; r < rows; r += 8) Rows8x32(depth, a + (long)r * ars, ars, aps, b + col, ldb, c + (long)r * ldc + col, ldc, accumulate);
        }
        for (; col < width; col += 16)
        {
            for (int r = 0; r < rows; r += 8) Rows8x16(depth, a + (long)r * ars, ars, aps, b + col, ldb, c + (long)r * ldc + col, ldc, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x64(int depth, float* a, int ars, int aps, float* b, int ldb, float* c, int ldc, bool add)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        float* a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars;
        for (int p = 0; p < depth; p++)
        {
            long o = (long)p * aps;
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16), b2 = Vector512.Load(b + 32), b3 = Vector512.Load(b + 48);
            Vector512<float> x = Vector512.Create(a[o]);
            c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            c02 = Avx512F.FusedMultiplyAdd(x, b2, c02); c03 = Avx512F.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Create(a1[o]);
            c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            c12 = Avx512F.FusedMultiplyAdd(x, b2, c12); c13 = Avx512F.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Create(a2[o]);
            c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            c22 = Avx512F.FusedMultiplyAdd(x, b2, c22); c23 = Avx512F.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Create(a3[o]);
            c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            c32 = Avx512F.FusedMultiplyAdd(x, b2, c32); c33 = Avx512F.FusedMultiplyAdd(x, b3, c33);
            b += ldb;
        }
        Store4(c, c00, c01, c02, c03, add); c += ldc;
        Store4(c, c10, c11, c12, c13, add); c += ldc;
        Store4(c, c20, c21, c22, c23, add); c += ldc;
        Store4(c, c30, c31, c32, c33, add);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows8x32(int depth, float* a, int ars, int aps, float* b, int ldb, float* c, int ldc, bool add)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < depth; p++)
        {
            float* ap = a + (long)p * aps;
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
            Vector512<float> x = Vector512.Create(ap[0]);
            c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(ap[ars]);
            c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(ap[2 * ars]);
            c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(ap[3 * ars]);
            c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(ap[4 * ars]);
            c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(ap[5 * ars]);
            c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(ap[6 * ars]);
            c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(ap[7 * ars]);
            c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
            b += ldb;
        }
        Store2(c, c00, c01, add); c += ldc;
        Store2(c, c10, c11, add); c += ldc;
        Store2(c, c20, c21, add); c += ldc;
        Store2(c, c30, c31, add); c += ldc;
        Store2(c, c40, c41, add); c += ldc;
        Store2(c, c50, c51, add); c += ldc;
        Store2(c, c60, c61, add); c += ldc;
        Store2(c, c70, c71, add);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows8x16(int depth, float* a, int ars, int aps, float* b, int ldb, float* c, int ldc, bool add)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int p = 0; p < depth; p++)
        {
            float* ap = a + (long)p * aps;
            Vector512<float> b0 = Vector512.Load(b);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(ap[0]), b0, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(ap[ars]), b0, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(ap[2 * ars]), b0, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(ap[3 * ars]), b0, c3);
            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(ap[4 * ars]), b0, c4);
            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(ap[5 * ars]), b0, c5);
            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(ap[6 * ars]), b0, c6);
            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(ap[7 * ars]), b0, c7);
            b += ldb;
        }
        Store1(c, c0, add); Store1(c + ldc, c1, add); Store1(c + 2 * ldc, c2, add); Store1(c + 3 * ldc, c3, add);
        Store1(c + 4 * ldc, c4, add); Store1(c + 5 * ldc, c5, add); Store1(c + 6 * ldc, c6, add); Store1(c + 7 * ldc, c7, add);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store1(float* c, Vector512<float> v, bool add) => (add ? v + Vector512.Load(c) : v).Store(c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store2(float* c, Vector512<float> v0, Vector512<float> v1, bool add)
    {
        Store1(c, v0, add);
        Store1(c + 16, v1, add);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(float* c, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3, bool add)
    {
        Store1(c, v0, add);
        Store1(c + 16, v1, add);
        Store1(c + 32, v2, add);
        Store1(c + 48, v3, add);
    }

    /// <summary>The scalar twin: any rows and width, p ascending with fused multiply-adds as the SIMD path.</summary>
    public static void Scalar(int rows, int width, int depth, float* a, int ars, int aps, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < width; j++)
            {
                float s = 0;
                for (int p = 0; p < depth; p++) s = MathF.FusedMultiplyAdd(a[(long)r * ars + (long)p * aps], b[(long)p * ldb + j], s);
                float* cij = c + (long)r * ldc + j;
                *cij = accumulate ? *cij + s : s;
            }
        }
    }
}
