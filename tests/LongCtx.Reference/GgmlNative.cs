using System.Runtime.InteropServices;

namespace LongCtx.Reference;

/// <summary>
/// Raw entry points of libggml-base (reference quantizers, dequantizers, fp16/bf16 rows, type
/// geometry) and of the AVX2 CPU backend (activation quantizers, vec_dot kernels), for
/// differential tests of LongCtx.Tensors. Pointers are to ggml blocks; lengths are element counts.
/// </summary>
public static unsafe class GgmlNative
{
    private const string Base = OracleLibraries.GgmlBase;
    private const string Cpu = OracleLibraries.GgmlCpu;

#pragma warning disable CS1591 // names and signatures are ggml's own
    [DllImport(Base)] public static extern nuint ggml_type_size(int type);
    [DllImport(Base)] public static extern long ggml_blck_size(int type);
    [DllImport(Base)] public static extern IntPtr ggml_type_name(int type);

    [DllImport(Base)] public static extern void ggml_fp16_to_fp32_row(ushort* x, float* y, long n);
    [DllImport(Base)] public static extern void ggml_fp32_to_fp16_row(float* x, ushort* y, long n);
    [DllImport(Base)] public static extern void ggml_bf16_to_fp32_row(ushort* x, float* y, long n);
    [DllImport(Base)] public static extern void ggml_fp32_to_bf16_row_ref(float* x, ushort* y, long n);

    [DllImport(Base)] public static extern void dequantize_row_q8_0(void* x, float* y, long k);
    [DllImport(Base)] public static extern void dequantize_row_q4_0(void* x, float* y, long k);
    [DllImport(Base)] public static extern void dequantize_row_q4_K(void* x, float* y, long k);
    [DllImport(Base)] public static extern void dequantize_row_q5_K(void* x, float* y, long k);
    [DllImport(Base)] public static extern void dequantize_row_q6_K(void* x, float* y, long k);
    [DllImport(Base)] public static extern void dequantize_row_q8_K(void* x, float* y, long k);

    [DllImport(Base)] public static extern void quantize_row_q8_0_ref(float* x, void* y, long k);
    [DllImport(Base)] public static extern void quantize_row_q4_0_ref(float* x, void* y, long k);
    [DllImport(Base)] public static extern void quantize_row_q4_K_ref(float* x, void* y, long k);
    [DllImport(Base)] public static extern void quantize_row_q5_K_ref(float* x, void* y, long k);
    [DllImport(Base)] public static extern void quantize_row_q6_K_ref(float* x, void* y, long k);
    [DllImport(Base)] public static extern void quantize_row_q8_K_ref(float* x, void* y, long k);

    [DllImport(Cpu)] public static extern void ggml_cpu_init();
    [DllImport(Cpu)] public static extern void quantize_row_q8_0(float* x, void* y, long k);
    [DllImport(Cpu)] public static extern void quantize_row_q8_K(float* x, void* y, long k);
    [DllImport(Cpu)] public static extern void ggml_cpu_fp32_to_fp16(float* x, ushort* y, long n);

    [DllImport(Cpu)] public static extern void ggml_vec_dot_f32(int n, float* s, nuint bs, float* x, nuint bx, float* y, nuint by, int nrc);
    [DllImport(OracleLibraries.GgmlCpuAvx512, EntryPoint = "ggml_vec_dot_f16")]
    public static extern void ggml_vec_dot_f16_avx512(int n, float* s, nuint bs, ushort* x, nuint bx, ushort* y, nuint by, int nrc);
    [DllImport(OracleLibraries.GgmlCpuAvx512, EntryPoint = "ggml_vec_dot_bf16")]
    public static extern void ggml_vec_dot_bf16_avx512(int n, float* s, nuint bs, ushort* x, nuint bx, ushort* y, nuint by, int nrc);
    [DllImport(Cpu)] public static extern void ggml_vec_swiglu_f32(int n, float* y, float* x, float* g);
    [DllImport(Cpu)] public static extern double ggml_vec_soft_max_f32(int n, float* y, float* x, float max);
    [DllImport(Cpu)] public static extern void ggml_vec_dot_f16(int n, float* s, nuint bs, ushort* x, nuint bx, ushort* y, nuint by, int nrc);
    [DllImport(Cpu)] public static extern void ggml_vec_dot_bf16(int n, float* s, nuint bs, ushort* x, nuint bx, ushort* y, nuint by, int nrc);
    [DllImport(Cpu)] public static extern void ggml_vec_dot_q8_0_q8_0(int n, float* s, nuint bs, void* x, nuint bx, void* y, nuint by, int nrc);
    [DllImport(Cpu)] public static extern void ggml_vec_dot_q5_0_q8_0(int n, float* s, nuint bs, void* x, nuint bx, void* y, nuint by, int nrc);
    [DllImport(Base)] public static extern void quantize_row_q5_0_ref(float* x, void* y, long k);
    [DllImport(Base)] public static extern void dequantize_row_q5_0(void* x, float* y, long k);
    [DllImport(Cpu)] public static extern void ggml_vec_dot_q4_0_q8_0(int n, float* s, nuint bs, void* x, nuint bx, void* y, nuint by, int nrc);
    [DllImport(Cpu)] public static extern void ggml_vec_dot_q4_K_q8_K(int n, float* s, nuint bs, void* x, nuint bx, void* y, nuint by, int nrc);
    [DllImport(Cpu)] public static extern void ggml_vec_dot_q5_K_q8_K(int n, float* s, nuint bs, void* x, nuint bx, void* y, nuint by, int nrc);
    [DllImport(Cpu)] public static extern void ggml_vec_dot_q6_K_q8_K(int n, float* s, nuint bs, void* x, nuint bx, void* y, nuint by, int nrc);
#pragma warning restore CS1591

    /// <summary>
    /// Kernels of the "zen4" CPU backend (AVX-512 VNNI/VBMI/BF16), the one llama.cpp loads on this
    /// project's machines; call only where <see cref="Zen4.Usable"/> is true.
    /// </summary>
    public static class Zen4
    {
        private const string Lib = OracleLibraries.GgmlCpuZen4;
#pragma warning disable CS1591
        [DllImport(Lib, EntryPoint = "ggml_backend_score")] private static extern int ggml_backend_score();
        [DllImport(Lib, EntryPoint = "ggml_cpu_init")] private static extern void ggml_cpu_init();
        [DllImport(Lib, EntryPoint = "quantize_row_q8_0")] public static extern void quantize_row_q8_0(float* x, void* y, long k);
        [DllImport(Lib, EntryPoint = "quantize_row_q8_K")] public static extern void quantize_row_q8_K(float* x, void* y, long k);
        [DllImport(Lib, EntryPoint = "ggml_vec_dot_f32")] public static extern void ggml_vec_dot_f32(int n, float* s, nuint bs, float* x, nuint bx, float* y, nuint by, int nrc);
        [DllImport(Lib, EntryPoint = "ggml_vec_dot_f16")] public static extern void ggml_vec_dot_f16(int n, float* s, nuint bs, ushort* x, nuint bx, ushort* y, nuint by, int nrc);
        [DllImport(Lib, EntryPoint = "ggml_vec_dot_bf16")] public static extern void ggml_vec_dot_bf16(int n, float* s, nuint bs, ushort* x, nuint bx, ushort* y, nuint by, int nrc);
        [DllImport(Lib, EntryPoint = "ggml_vec_dot_q8_0_q8_0")] public static extern void ggml_vec_dot_q8_0_q8_0(int n, float* s, nuint bs, void* x, nuint bx, void* y, nuint by, int nrc);
        [DllImport(Lib, EntryPoint = "ggml_vec_dot_q5_0_q8_0")] public static extern void ggml_vec_dot_q5_0_q8_0(int n, float* s, nuint bs, void* x, nuint bx, void* y, nuint by, int nrc);
        [DllImport(Lib, EntryPoint = "ggml_vec_dot_q4_0_q8_0")] public static extern void ggml_vec_dot_q4_0_q8_0(int n, float* s, nuint bs, void* x, nuint bx, void* y, nuint by, int nrc);
        [DllImport(Lib, EntryPoint = "ggml_vec_dot_q4_K_q8_K")] public static extern void ggml_vec_dot_q4_K_q8_K(int n, float* s, nuint bs, void* x, nuint bx, void* y, nuint by, int nrc);
        [DllImport(Lib, EntryPoint = "ggml_vec_dot_q5_K_q8_K")] public static extern void ggml_vec_dot_q5_K_q8_K(int n, float* s, nuint bs, void* x, nuint bx, void* y, nuint by, int nrc);
        [DllImport(Lib, EntryPoint = "ggml_vec_dot_q6_K_q8_K")] public static extern void ggml_vec_dot_q6_K_q8_K(int n, float* s, nuint bs, void* x, nuint bx, void* y, nuint by, int nrc);
        [DllImport(Lib, EntryPoint = "ggml_vec_swiglu_f32")] public static extern void ggml_vec_swiglu_f32(int n, float* y, float* x, float* g);
        [DllImport(Lib, EntryPoint = "ggml_vec_soft_max_f32")] public static extern double ggml_vec_soft_max_f32(int n, float* y, float* x, float max);
        [DllImport(Lib, EntryPoint = "ggml_gemv_q4_0_8x8_q8_0")] public static extern void ggml_gemv_q4_0_8x8_q8_0(int n, float* s, nuint bs, void* vx, void* vy, int nr, int nc);
        [DllImport(Lib, EntryPoint = "ggml_gemv_q4_K_8x8_q8_K")] public static extern void ggml_gemv_q4_K_8x8_q8_K(int n, float* s, nuint bs, void* vx, void* vy, int nr, int nc);
#pragma warning restore CS1591

        private static readonly Lazy<bool> Ready = new(() =>
        {
            if (ggml_backend_score() == 0)
            {
                return false;
            }
            ggml_cpu_init();
            return true;
        });

        /// <summary>Whether this CPU runs the zen4 build (its own feature check, <c>ggml_backend_score</c>), initialized once.</summary>
        public static bool Usable => Ready.Value;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct InitParams
    {
        public nuint MemSize;
        public void* MemBuffer;
        public byte NoAlloc;
    }

    [DllImport(Base)] private static extern IntPtr ggml_init(InitParams p);
    [DllImport(Base)] private static extern void ggml_free(IntPtr ctx);
    [DllImport(Base)] private static extern IntPtr ggml_new_tensor_2d(IntPtr ctx, int type, long ne0, long ne1);
    [DllImport(Base)] private static extern IntPtr ggml_mul_mat(IntPtr ctx, IntPtr a, IntPtr b);
    [DllImport(Base)] private static extern IntPtr ggml_new_graph(IntPtr ctx);
    [DllImport(Base)] private static extern void ggml_build_forward_expand(IntPtr graph, IntPtr tensor);
    [DllImport(Base)] private static extern void* ggml_get_data(IntPtr tensor);
    [DllImport(Cpu)] private static extern int ggml_graph_compute_with_ctx(IntPtr ctx, IntPtr graph, int threads);
    [DllImport(OracleLibraries.GgmlCpuZen4, EntryPoint = "ggml_graph_compute_with_ctx")] private static extern int ggml_graph_compute_with_ctx_zen4(IntPtr ctx, IntPtr graph, int threads);

    /// <summary>
    /// y = W·x through ggml's own graph (<c>ggml_mul_mat</c> computed by the CPU backend: activations
    /// converted to the vec_dot_type, then tinyBLAS <c>llamafile_sgemm</c> where it applies, else
    /// vec_dot), in the AVX2 ("haswell") build or the zen4 build. Weights are not repacked.
    /// </summary>
    /// <param name="type">ggml type id of the weights.</param>
    /// <param name="weights"><paramref name="rows"/> rows in ggml layout.</param>
    /// <param name="rows">Output features.</param>
    /// <param name="cols">Input features.</param>
    /// <param name="x"><paramref name="n"/>·<paramref name="cols"/> floats, token-major.</param>
    /// <param name="n">Tokens.</param>
    /// <param name="zen4">Use the zen4 build (call only where <see cref="Zen4.Usable"/>).</param>
    /// <param name="threads">Threads of the computation.</param>
    /// <returns><paramref name="n"/>·<paramref name="rows"/> floats, token-major.</returns>
    public static float[] MulMat(int type, ReadOnlySpan<byte> weights, int rows, int cols, ReadOnlySpan<float> x, int n, bool zen4, int threads = 2)
    {
        EnsureCpuInit();
        long bytes = weights.Length + (long)x.Length * 4 + (long)n * rows * 4 + (long)cols * n * 4 + (16L << 20);
        IntPtr ctx = ggml_init(new InitParams { MemSize = (nuint)bytes, MemBuffer = null, NoAlloc = 0 });
        try
        {
            IntPtr a = ggml_new_tensor_2d(ctx, type, cols, rows);
            IntPtr b = ggml_new_tensor_2d(ctx, 0, cols, n);
            weights.CopyTo(new Span<byte>(ggml_get_data(a), weights.Length));
            x[..(n * cols)].CopyTo(new Span<float>(ggml_get_data(b), n * cols));
            IntPtr c = ggml_mul_mat(ctx, a, b);
            IntPtr graph = ggml_new_graph(ctx);
            ggml_build_forward_expand(graph, c);
            int status = zen4 ? ggml_graph_compute_with_ctx_zen4(ctx, graph, threads) : ggml_graph_compute_with_ctx(ctx, graph, threads);
            if (status != 0) throw new InvalidOperationException($"ggml_graph_compute_with_ctx returned {status}");
            return new ReadOnlySpan<float>(ggml_get_data(c), n * rows).ToArray();
        }
        finally
        {
            ggml_free(ctx);
        }
    }

    [DllImport(OracleLibraries.GgmlCpuZen4, EntryPoint = "ggml_backend_cpu_reg")] private static extern IntPtr ggml_backend_cpu_reg_zen4();
    [DllImport(OracleLibraries.GgmlCpuZen4, EntryPoint = "ggml_backend_cpu_init")] private static extern IntPtr ggml_backend_cpu_init_zen4();
    [DllImport(OracleLibraries.GgmlCpuZen4, EntryPoint = "ggml_backend_cpu_set_n_threads")] private static extern void ggml_backend_cpu_set_n_threads_zen4(IntPtr backend, int threads);
    [DllImport(Base)] private static extern IntPtr ggml_backend_reg_get_proc_address(IntPtr reg, [MarshalAs(UnmanagedType.LPUTF8Str)] string name);
    [DllImport(Base)] private static extern IntPtr ggml_backend_reg_dev_get(IntPtr reg, nuint index);
    [DllImport(Base)] private static extern IntPtr ggml_backend_alloc_ctx_tensors_from_buft(IntPtr ctx, IntPtr buft);
    [DllImport(Base)] private static extern IntPtr ggml_backend_cpu_buffer_type();
    [DllImport(Base)] private static extern IntPtr ggml_backend_buft_name(IntPtr buft);
    [DllImport(Base)] private static extern void ggml_backend_tensor_set(IntPtr tensor, void* data, nuint offset, nuint size);
    [DllImport(Base)] private static extern void ggml_backend_tensor_get(IntPtr tensor, void* data, nuint offset, nuint size);
    [DllImport(Base)] private static extern int ggml_backend_graph_compute(IntPtr backend, IntPtr graph);
    [DllImport(Base)] private static extern void ggml_backend_free(IntPtr backend);
    [DllImport(Base)] private static extern void ggml_backend_buffer_free(IntPtr buffer);
    [DllImport(Base)] private static extern nuint ggml_tensor_overhead();
    [DllImport(Base)] private static extern nuint ggml_graph_overhead();

    /// <summary>
    /// y = W·x as llama.cpp computes it for weights it repacks: the weight tensor lives in the zen4
    /// build's <c>CPU_REPACK</c> buffer (interleaved rows, e.g. Q4_K → q4_K_8x8, where the
    /// build repacks that type and shape), and the CPU backend runs its repacked gemm on groups of
    /// four tokens and its gemv on the rest. Call only where <see cref="Zen4.Usable"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The build has no repack buffer type.</exception>
    public static float[] MulMatRepacked(int type, ReadOnlySpan<byte> weights, int rows, int cols, ReadOnlySpan<float> x, int n, int threads = 2)
    {
        IntPtr reg = ggml_backend_cpu_reg_zen4();
        IntPtr getExtra = ggml_backend_reg_get_proc_address(reg, "ggml_backend_dev_get_extra_bufts");
        var extraBufts = (delegate* unmanaged<IntPtr, IntPtr*>)getExtra;
        IntPtr* list = extraBufts(ggml_backend_reg_dev_get(reg, 0));
        IntPtr repack = IntPtr.Zero;
        for (IntPtr* p = list; p != null && *p != IntPtr.Zero; p++)
        {
            if (Marshal.PtrToStringUTF8(ggml_backend_buft_name(*p)) == "CPU_REPACK") repack = *p;
        }
        if (repack == IntPtr.Zero) throw new InvalidOperationException("the zen4 CPU backend has no CPU_REPACK buffer type");

        nuint meta = ggml_tensor_overhead() * 8 + ggml_graph_overhead();
        IntPtr ctxW = ggml_init(new InitParams { MemSize = meta, NoAlloc = 1 });
        IntPtr ctx = ggml_init(new InitParams { MemSize = meta, NoAlloc = 1 });
        IntPtr backend = ggml_backend_cpu_init_zen4(), bufW = IntPtr.Zero, buf = IntPtr.Zero;
        try
        {
            IntPtr a = ggml_new_tensor_2d(ctxW, type, cols, rows);
            bufW = ggml_backend_alloc_ctx_tensors_from_buft(ctxW, repack);
            IntPtr b = ggml_new_tensor_2d(ctx, 0, cols, n);
            IntPtr c = ggml_mul_mat(ctx, a, b);
            IntPtr graph = ggml_new_graph(ctx);
            ggml_build_forward_expand(graph, c);
            buf = ggml_backend_alloc_ctx_tensors_from_buft(ctx, ggml_backend_cpu_buffer_type());
            fixed (byte* pw = weights)
            fixed (float* px = x)
            {
                ggml_backend_tensor_set(a, pw, 0, (nuint)weights.Length);
                ggml_backend_tensor_set(b, px, 0, (nuint)(n * cols * 4));
            }
            ggml_backend_cpu_set_n_threads_zen4(backend, threads);
            int status = ggml_backend_graph_compute(backend, graph);
            if (status != 0) throw new InvalidOperationException($"ggml_backend_graph_compute returned {status}");
            var y = new float[n * rows];
            fixed (float* py = y)
            {
                ggml_backend_tensor_get(c, py, 0, (nuint)(y.Length * 4));
            }
            return y;
        }
        finally
        {
            ggml_backend_free(backend);
            if (buf != IntPtr.Zero) ggml_backend_buffer_free(buf);
            if (bufW != IntPtr.Zero) ggml_backend_buffer_free(bufW);
            ggml_free(ctx);
            ggml_free(ctxW);
        }
    }

    private static readonly Lazy<bool> CpuReady = new(() => { ggml_cpu_init(); return true; });

    /// <summary>Calls ggml_cpu_init once (it fills the CPU backend's lookup tables).</summary>
    public static void EnsureCpuInit() => _ = CpuReady.Value;
}
