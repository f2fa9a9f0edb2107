using System.Text;
using LongCtx.Gguf;
using LongCtx.Tokenization.ChatFormats;

namespace LongCtx.Tokenization;

/// <summary>
/// Turns a conversation into prompt text exactly as libllama's <c>llama_chat_apply_template</c>:
/// the template (a model's Jinja <c>tokenizer.chat_template</c>, or a built-in name such as
/// "chatml") only selects one of llama.cpp's built-in formats, recognised by markers in its text;
/// no Jinja is run. So a template's own extras (default system prompts, tool blocks, Qwen3's
/// removal of &lt;think&gt; blocks from earlier answers) are not applied, exactly as in llama.cpp.
/// </summary>
/// <remarks>
/// BOS is not written: the tokenizer adds it (add_bos). Formats that have no assistant prefix
/// (Llama 2, Mistral, ...) end the same way whatever <c>addAssistant</c> says.
/// </remarks>
public sealed class ChatTemplate
{
    private readonly ChatFormat _format;

    private ChatTemplate(ChatFormat format, string? text)
    {
        _format = format;
        Text = text;
    }

    /// <summary>llama.cpp's name of the format in use ("chatml", "llama3", "mistral-v7", ...; "dots1" is the one format llama.cpp only reaches from template text).</summary>
    public string Name => _format.Name;

    /// <summary>The template text the format was recognised from; null when it was chosen by name.</summary>
    public string? Text { get; }

    /// <summary>The names <see cref="FromName"/> accepts: llama.cpp's built-in templates (<c>llama_chat_builtin_templates</c>), in its order.</summary>
    public static IReadOnlyList<string> BuiltinNames => BuiltinFormats.Names;

    /// <summary>The model's own template (<c>tokenizer.chat_template</c>), or null when the file has none (llama.cpp's tools then fall back to chatml).</summary>
    /// <exception cref="ChatTemplateException">The file has a template that none of the built-in formats recognises.</exception>
    public static ChatTemplate? FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        string? text = file.GetStringOrNull(GgufKeys.ChatTemplate);
        return text == null ? null : FromText(text, $" in '{file.FilePath}'");
    }

    /// <summary>A built-in format by llama.cpp's name (see <see cref="BuiltinNames"/>), compared exactly.</summary>
    /// <exception cref="ChatTemplateException">No built-in format has that name; the message lists the names.</exception>
    public static ChatTemplate FromName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!BuiltinFormats.ByName.TryGetValue(name, out ChatFormat? format))
        {
            throw new ChatTemplateException(name, $"Unknown chat template name '{name}'. Known names: {string.Join(", ", BuiltinNames)}.");
        }
        return new ChatTemplate(format, null);
    }

    /// <summary>
    /// The format for a template text (e.g. read from a .jinja file), as <c>llama_chat_apply_template</c>
    /// recognises it: a text equal to a built-in name selects that format; otherwise markers in the text do.
    /// </summary>
    /// <exception cref="ChatTemplateException">Nothing in the text matches a built-in format; the message quotes its start.</exception>
    public static ChatTemplate FromText(string template) => FromText(template, "");

    /// <summary>The template text in <paramref name="path"/> (UTF-8), as <see cref="FromText(string)"/>.</summary>
    /// <exception cref="ChatTemplateException">The file's text matches no built-in format.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static ChatTemplate FromFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return FromText(File.ReadAllText(path, Encoding.UTF8), $" in '{path}'");
    }

    /// <summary>Renders <paramref name="messages"/> as prompt text.</summary>
    /// <param name="messages">The conversation, oldest first; may be empty.</param>
    /// <param name="addAssistant">End with the opening of an assistant turn (add_generation_prompt), where the format has one.</param>
    /// <exception cref="ArgumentException">A message, its role or its content is null.</exception>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addAssistant)
    {
        ArgumentNullException.ThrowIfNull(messages);
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i] is null || messages[i].Role is null || messages[i].Content is null)
            {
                throw new ArgumentException($"message {i} is null or has a null role or content", nameof(messages));
            }
        }
        var output = new StringBuilder();
        _format.Render(messages, addAssistant, output);
        return output.ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    private static ChatTemplate FromText(string template, string where)
    {
        ArgumentNullException.ThrowIfNull(template);
        ChatFormat format = ChatTemplateDetector.Detect(template) ?? throw Unsupported(template, where);
        return new ChatTemplate(format, template);
    }

    private static ChatTemplateException Unsupported(string template, string where)
    {
        string head = template.Length <= 80 ? template : template[..80] + "…";
        return new ChatTemplateException(head,
            $"Chat template{where} not supported: \"{head.ReplaceLineEndings("⏎")}\" ({template.Length} chars) matches none of llama.cpp's built-in formats. " +
            $"Choose one by name ({string.Join(", ", BuiltinNames)}).");
    }
}
