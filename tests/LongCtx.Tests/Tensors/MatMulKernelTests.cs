using LongCtx.Reference;
using LongCtx.Tensors;

namespace LongCtx.Tests.Tensors;

/// <summary>
/// Every kernel level of every weight type against the scalar reference (awkward row counts and
/// token counts, so that every register tile and every remainder path runs), and the x86 levels
/// bit-exact against ggml's own kernels from llama.cpp's AVX2 and zen4 CPU backends.
/// </summary>
public unsafe class MatMulKernelTests
{
    private static readonly GgmlType[] Types = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K];

    /// <summary>Types whose x86 kernels sum in exactly ggml's order.</summary>
    private static readonly GgmlType[] BitExact = [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K];

    public MatMulKernelTests() => GgmlNative.EnsureCpuInit();

    public static TheoryData<GgmlType, KernelLevel, int> LevelCases()
    {
        var data = new TheoryData<GgmlType, KernelLevel, int>();
        foreach (GgmlType t in Types)
        {
            foreach (KernelLevel level in Enum.GetValues<KernelLevel>())
            {
                if (level == KernelLevel.Scalar) continue;
                foreach (int n in new[] { 1, 6, 11 }) data.Add(t, level, n);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(LevelCases))]
    public void LevelMatchesScalar(GgmlType type, KernelLevel level, int n)
    {
        if (!Kernels.IsSupported(level)) return; // nothing to compare on this CPU
        var m = new Problem(type, rows: 37, cols: Cols(type), n, seed: 3);
        float[] reference = m.Run(KernelLevel.Scalar, threads: 1);
        float[] got = m.Run(level, threads: 2);
        for (int t = 0; t < n; t++)
        {
            for (int r = 0; r < m.Rows; r++)
            {
                float magnitude = m.AbsDot(r, t);
                float a = got[t * m.Rows + r], b = reference[t * m.Rows + r];
                Assert.True(Math.Abs(a - b) <= 3e-6f * magnitude, $"{type} {level} n={n} t={t} r={r}: {a} vs scalar {b} (|·| {magnitude})");
            }
        }
    }

    public static TheoryData<GgmlType, int> BitExactCases()
    {
        var data = new TheoryData<GgmlType, int>();
        foreach (GgmlType t in BitExact)
        {
            foreach (int n in new[] { 1, 5, 8 }) data.Add(t, n);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BitExactCases))]
    public void X86KernelsAreBitExactWithGgml(GgmlType type, int n)
    {
        if (!Kernels.IsSupported(KernelLevel.Avx2)) return;
        var m = new Problem(type, rows: 43, cols: Cols(type) * 3, n, seed: 5);
        foreach (KernelLevel level in new[] { KernelLevel.Avx2, KernelLevel.Avx512 })
        {
            if (!Kernels.IsSupported(level)) continue;
            float[] got = m.Run(level, threads: 2);
            for (int t = 0; t < n; t++)
            {
                for (int r = 0; r < m.Rows; r++)
                {
                    float mine = got[t * m.Rows + r];
                    Assert.Equal(m.Ggml(r, t, zen4: false), mine);
                    if (GgmlNative.Zen4.Usable) Assert.Equal(m.Ggml(r, t, zen4: true), mine);
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(8)]
    public void InterleavedQ4_0IsBitExactWithGgmlRepackedGemv(int n)
    {
        if (!Kernels.IsSupported(KernelLevel.Avx2) || !GgmlNative.Zen4.Usable) return;
        var m = new Problem(GgmlType.Q4_0, rows: 56, cols: 224, n, seed: 8);
        byte[] repacked = m.RepackQ4_0x8();
        foreach (KernelLevel level in new[] { KernelLevel.Avx2, KernelLevel.Avx512 })
        {
            if (!Kernels.IsSupported(level)) continue;
            float[] got = m.Run(level, threads: 2, interleaved: true);
            for (int t = 0; t < n; t++)
            {
                float[] expected = m.GgmlRepackedGemv(repacked, t);
                Assert.Equal(expected, got.AsSpan(t * m.Rows, m.Rows).ToArray());
            }
        }
    }

    /// <summary>
    /// Repacked Q4_K as llama.cpp computes it (the weights in the zen4 build's CPU_REPACK buffer):
    /// its gemm on whole groups of four tokens, its gemv on the rest; 40 rows so that both its
    /// 16-column AVX-512 loop and its 8-column remainder run.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(6)]
    [InlineData(9)]
    [InlineData(17)]
    public void InterleavedQ4_KIsBitExactWithGgmlRepackedMulMat(int n)
    {
        if (!Kernels.IsSupported(KernelLevel.Avx2) || !GgmlNative.Zen4.Usable) return;
        var m = new Problem(GgmlType.Q4_K, rows: 40, cols: 512, n, seed: 9);
        float[] expected = m.GgmlRepackedMulMat();
        foreach (KernelLevel level in new[] { KernelLevel.Avx2, KernelLevel.Avx512 })
        {
            if (!Kernels.IsSupported(level)) continue;
            Assert.Equal(expected, m.Run(level, threads: 2, interleaved: true));
        }
    }

    private static int Cols(GgmlType type) => GgmlTypeInfo.BlockSize(type) == 256 ? 512 : GgmlTypeInfo.BlockSize(type) == 1 ? 200 : 224;

    /// <summary>Random weights and activations, the activations converted exactly as the kernels see them.</summary>
    private sealed class Problem
    {
        private readonly GgmlType _type, _act;
        private readonly byte[] _w, _a;
        private readonly float[] _x;
        private readonly int _n;

        public Problem(GgmlType type, int rows, int cols, int n, int seed)
        {
            _type = type;
            _act = ActivationQuantize.VecDotType(type);
            Rows = rows;
            Cols = cols;
            _n = n;
            int rowBytes = (int)GgmlTypeInfo.RowSize(type, cols);
            _w = new byte[rowBytes * rows + 64];
            for (int r = 0; r < rows; r++)
            {
                Quantize.Row(type, TensorTestData.Floats(cols, seed * 1000 + r), _w.AsSpan(r * rowBytes, rowBytes));
            }
            _x = TensorTestData.Floats(n * cols, seed, scale: 2f);
            int actBytes = (int)GgmlTypeInfo.RowSize(_act, cols);
            _a = new byte[actBytes * n + 64];
            for (int t = 0; t < n; t++)
            {
                ActivationQuantize.Row(_act, _x.AsSpan(t * cols, cols), _a.AsSpan(t * actBytes, actBytes));
            }
        }

        public int Rows { get; }
        public int Cols { get; }

        public float[] Run(KernelLevel level, int threads, bool interleaved = false)
        {
            var y = new float[_n * Rows];
            using var pool = new WorkerPool(threads);
            fixed (byte* w = _w)
            {
                MatMul.Compute(_type, w, Rows, Cols, _x, _n, y, pool, new MatMulScratch(), level, interleaved);
            }
            return y;
        }

        /// <summary>ggml's make_block_q4_0x8 (repack.cpp): per 8 rows and block, 8 scales then 16 runs of 8 bytes, nibbles XOR 0x88.</summary>
        public byte[] RepackQ4_0x8()
        {
            int nb = Cols / 32, rb = (int)GgmlTypeInfo.RowSize(_type, Cols);
            var out8 = new byte[Rows / 8 * nb * 144];
            for (int x = 0; x < Rows / 8; x++)
            {
                for (int b = 0; b < nb; b++)
                {
                    int o = (x * nb + b) * 144;
                    for (int i = 0; i < 8; i++)
                    {
                        int src = (8 * x + i) * rb + b * 18;
                        out8[o + 2 * i] = _w[src];
                        out8[o + 2 * i + 1] = _w[src + 1];
                    }
                    for (int i = 0; i < 16; i++)
                    {
                        int src = (8 * x + i % 8) * rb + b * 18 + 2 + (i / 8) * 8;
                        for (int k = 0; k < 8; k++) out8[o + 16 + i * 8 + k] = (byte)(_w[src + k] ^ 0x88);
                    }
                }
            }
            return out8;
        }

        public float[] GgmlRepackedMulMat() =>
            GgmlNative.MulMatRepacked((int)_type, _w.AsSpan(0, (int)GgmlTypeInfo.RowSize(_type, Cols) * Rows), Rows, Cols, _x, _n);

        public float[] GgmlRepackedGemv(byte[] repacked, int t)
        {
            var y = new float[Rows];
            fixed (byte* w = repacked)
            fixed (byte* a0 = _a)
            fixed (float* py = y)
            {
                GgmlNative.Zen4.ggml_gemv_q4_0_8x8_q8_0(Cols, py, (nuint)Rows, w, a0 + t * GgmlTypeInfo.RowSize(_act, Cols), 1, Rows);
            }
            return y;
        }

        public float AbsDot(int r, int t) => DotKernelTests.AbsDot(_type, _act,
            _w.AsSpan((int)(r * GgmlTypeInfo.RowSize(_type, Cols)), (int)GgmlTypeInfo.RowSize(_type, Cols)).ToArray(),
            _a.AsSpan((int)(t * GgmlTypeInfo.RowSize(_act, Cols)), (int)GgmlTypeInfo.RowSize(_act, Cols)).ToArray(), Cols);

        public float Ggml(int r, int t, bool zen4)
        {
            float s;
            fixed (byte* w0 = _w)
            fixed (byte* a0 = _a)
            {
                byte* w = w0 + r * GgmlTypeInfo.RowSize(_type, Cols), a = a0 + t * GgmlTypeInfo.RowSize(_act, Cols);
                int n = Cols;
                switch (_type, zen4)
                {
                    case (GgmlType.Q8_0, false): GgmlNative.ggml_vec_dot_q8_0_q8_0(n, &s, 0, w, 0, a, 0, 1); break;
                    case (GgmlType.Q8_0, true): GgmlNative.Zen4.ggml_vec_dot_q8_0_q8_0(n, &s, 0, w, 0, a, 0, 1); break;
                    case (GgmlType.Q4_0, false): GgmlNative.ggml_vec_dot_q4_0_q8_0(n, &s, 0, w, 0, a, 0, 1); break;
                    case (GgmlType.Q4_0, true): GgmlNative.Zen4.ggml_vec_dot_q4_0_q8_0(n, &s, 0, w, 0, a, 0, 1); break;
                    case (GgmlType.Q5_0, false): GgmlNative.ggml_vec_dot_q5_0_q8_0(n, &s, 0, w, 0, a, 0, 1); break;
                    case (GgmlType.Q5_0, true): GgmlNative.Zen4.ggml_vec_dot_q5_0_q8_0(n, &s, 0, w, 0, a, 0, 1); break;
                    case (GgmlType.Q4_K, false): GgmlNative.ggml_vec_dot_q4_K_q8_K(n, &s, 0, w, 0, a, 0, 1); break;
                    case (GgmlType.Q4_K, true): GgmlNative.Zen4.ggml_vec_dot_q4_K_q8_K(n, &s, 0, w, 0, a, 0, 1); break;
                    case (GgmlType.Q5_K, false): GgmlNative.ggml_vec_dot_q5_K_q8_K(n, &s, 0, w, 0, a, 0, 1); break;
                    case (GgmlType.Q5_K, true): GgmlNative.Zen4.ggml_vec_dot_q5_K_q8_K(n, &s, 0, w, 0, a, 0, 1); break;
                    case (GgmlType.Q6_K, false): GgmlNative.ggml_vec_dot_q6_K_q8_K(n, &s, 0, w, 0, a, 0, 1); break;
                    case (GgmlType.Q6_K, true): GgmlNative.Zen4.ggml_vec_dot_q6_K_q8_K(n, &s, 0, w, 0, a, 0, 1); break;
                    default: throw new ArgumentException($"{_type}");
                }
            }
            return s;
        }
    }
}
