using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LongCtx.Reference;

/// <summary>
/// Resolves the library names used by this assembly's P/Invoke declarations to the files in
/// <see cref="OracleFiles.BinDirectory"/>: <c>"llama"</c>, <c>"ggml"</c>, <c>"ggml-base"</c>
/// <c>"ggml-cpu"</c> (the AVX2 "haswell" build of the CPU backend, for calling its kernels
/// directly in differential tests), <c>"ggml-cpu-avx512"</c> (the "skylakex" build, AVX-512) and
/// <c>"ggml-cpu-zen4"</c> (AVX-512 with VNNI, VBMI and BF16: the build llama.cpp picks on Zen 4/5).
/// </summary>
internal static class OracleLibraries
{
    public const string Llama = "llama";
    public const string Ggml = "ggml";
    public const string GgmlBase = "ggml-base";
    public const string GgmlCpu = "ggml-cpu";
    public const string GgmlCpuAvx512 = "ggml-cpu-avx512";
    public const string GgmlCpuZen4 = "ggml-cpu-zen4";

#pragma warning disable CA2255 // a library's resolver must be in place before its first P/Invoke, whoever calls first
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() =>
        NativeLibrary.SetDllImportResolver(typeof(OracleLibraries).Assembly, Resolve);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        string? file = name switch
        {
            Llama => "libllama.v0.5.0.so",
            Ggml => "libggml.v0.5.0.so",
            GgmlBase => "libggml-base.so",
            GgmlCpu => "libggml-cpu-haswell.so",
            GgmlCpuAvx512 => "libggml-cpu-skylakex.so",
            GgmlCpuZen4 => "libggml-cpu-zen4.so",
            _ => null,
        };
        if (file == null)
        {
            return IntPtr.Zero;
        }
        string dir = OracleFiles.BinDirectory;
        // Load dependencies by full path first so that the dynamic loader finds them by soname.
        NativeLibrary.Load(Path.Combine(dir, "libggml-base.so"));
        if (name == Llama)
        {
            NativeLibrary.Load(Path.Combine(dir, "libggml.v0.5.0.so"));
        }
        return NativeLibrary.Load(Path.Combine(dir, file));
    }
}
