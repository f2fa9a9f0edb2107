using System.Runtime.InteropServices;
using System.Text;

namespace LongCtx.Reference;

/// <summary>
/// llama.cpp's chat templating without a model: <c>llama_chat_apply_template</c> (built-in formats,
/// chosen by name or recognised from template text; no Jinja) and <c>llama_chat_builtin_templates</c>.
/// </summary>
public static unsafe class LlamaChatTemplate
{
    /// <summary>llama.cpp's rendering of <paramref name="messages"/> with <paramref name="template"/>.</summary>
    /// <param name="template">A built-in name ("chatml", "llama3", ...) or a model's template text.</param>
    /// <param name="messages">The conversation; strings are passed as NUL-terminated UTF-8.</param>
    /// <param name="addAssistant">End with the prefix of an assistant turn.</param>
    /// <exception cref="InvalidOperationException">llama.cpp does not support the template.</exception>
    public static string Apply(string template, IReadOnlyList<(string Role, string Content)> messages, bool addAssistant) =>
        TryApply(template, messages, addAssistant)
        ?? throw new InvalidOperationException($"llama.cpp does not support the chat template {Shorten(template)}.");

    /// <summary>As <see cref="Apply"/>, but null when llama.cpp does not support the template.</summary>
    public static string? TryApply(string template, IReadOnlyList<(string Role, string Content)> messages, bool addAssistant)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(messages);
        LlamaRuntime.EnsureInitialized();
        var strings = new List<IntPtr>(messages.Count * 2 + 1);
        try
        {
            IntPtr tmpl = Marshal.StringToCoTaskMemUTF8(template);
            strings.Add(tmpl);
            var chat = new LlamaChatMessage[messages.Count];
            int size = 256;
            for (int i = 0; i < messages.Count; i++)
            {
                IntPtr role = Marshal.StringToCoTaskMemUTF8(messages[i].Role);
                strings.Add(role);
                IntPtr content = Marshal.StringToCoTaskMemUTF8(messages[i].Content);
                strings.Add(content);
                chat[i] = new LlamaChatMessage { Role = (byte*)role, Content = (byte*)content };
                size += Encoding.UTF8.GetByteCount(messages[i].Role) + Encoding.UTF8.GetByteCount(messages[i].Content);
            }
            size *= 2;
            while (true)
            {
                byte[] buf = new byte[size];
                fixed (LlamaChatMessage* pChat = chat)
                fixed (byte* p = buf)
                {
                    int n = LlamaNative.llama_chat_apply_template((byte*)tmpl, pChat, (nuint)chat.Length, addAssistant, p, size);
                    if (n < 0)
                    {
                        return null;
                    }
                    if (n <= size)
                    {
                        return Encoding.UTF8.GetString(buf, 0, n);
                    }
                    size = n;
                }
            }
        }
        finally
        {
            foreach (IntPtr s in strings)
            {
                Marshal.FreeCoTaskMem(s);
            }
        }
    }

    /// <summary>The names llama.cpp accepts in place of template text, in its order.</summary>
    public static IReadOnlyList<string> BuiltinNames()
    {
        LlamaRuntime.EnsureInitialized();
        int count = LlamaNative.llama_chat_builtin_templates(null, 0);
        var names = new IntPtr[count];
        fixed (IntPtr* p = names)
        {
            LlamaNative.llama_chat_builtin_templates((byte**)p, (nuint)count);
        }
        return names.Select(n => Marshal.PtrToStringUTF8(n)!).ToArray();
    }

    internal static string Shorten(string template) =>
        template.Length <= 60 ? $"'{template}'" : $"'{template[..60]}...' ({template.Length} chars)";
}
