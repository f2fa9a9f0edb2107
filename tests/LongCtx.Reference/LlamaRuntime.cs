using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace LongCtx.Reference;

/// <summary>
/// Process-wide llama.cpp state: the logger and the one-time backend initialisation.
/// The order matters: the logger goes in first (so that backend loading is quiet too), then
/// <c>ggml_backend_load_all_from_path</c> picks the best CPU variant in the npm package
/// (haswell, skylakex, zen4, ...) and only then <c>llama_backend_init</c>, which would otherwise
/// call <c>ggml_backend_load_all()</c> and search the wrong folders.
/// </summary>
internal static unsafe class LlamaRuntime
{
    private static readonly Lock Gate = new();
    private static readonly Lazy<bool> Initialized = new(Initialize, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly StringBuilder RecentProblems = new();
    private static int _lastLevel;

    /// <summary>Receives llama.cpp's and ggml's log text (pieces, not always whole lines); null = silent.</summary>
    public static Action<string>? LogSink { get; set; }

    public static void EnsureInitialized() => _ = Initialized.Value;

    private static bool Initialize()
    {
        LlamaNative.llama_log_set(&OnLog, null);
        LlamaNative.ggml_backend_load_all_from_path(OracleFiles.BinDirectory);
        LlamaNative.llama_backend_init();
        return true;
    }

    /// <summary>Forgets the warnings and errors seen so far (before a call whose failure we explain).</summary>
    public static void ClearProblems()
    {
        lock (Gate)
        {
            RecentProblems.Clear();
        }
    }

    /// <summary>The warnings and errors logged since <see cref="ClearProblems"/>, trimmed; empty when none.</summary>
    public static string Problems()
    {
        lock (Gate)
        {
            return RecentProblems.ToString().Trim();
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnLog(int level, byte* text, void* userData)
    {
        try
        {
            string message = Marshal.PtrToStringUTF8((IntPtr)text) ?? "";
            LogSink?.Invoke(message);
            lock (Gate)
            {
                int effective = level == LlamaNative.LogLevelCont ? _lastLevel : level;
                _lastLevel = effective;
                if ((effective is LlamaNative.LogLevelWarn or LlamaNative.LogLevelError) && RecentProblems.Length < 8192)
                {
                    RecentProblems.Append(message);
                }
            }
        }
        catch
        {
            // An exception must never unwind into native code.
        }
    }
}
