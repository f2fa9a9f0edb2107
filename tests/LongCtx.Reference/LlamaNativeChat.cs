using System.Runtime.InteropServices;

namespace LongCtx.Reference;

internal static unsafe partial class LlamaNative
{
    /// <summary>Fills up to <paramref name="len"/> name pointers (owned by libllama) and returns the number of built-in templates.</summary>
    [LibraryImport(OracleLibraries.Llama)]
    public static partial int llama_chat_builtin_templates(byte** output, nuint len);
}
