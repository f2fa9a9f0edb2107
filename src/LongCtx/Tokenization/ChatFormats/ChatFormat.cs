using System.Text;

namespace LongCtx.Tokenization.ChatFormats;

/// <summary>
/// One of llama.cpp's built-in chat formats (the branches of <c>llm_chat_apply_template</c> in
/// src/llama-chat.cpp): it writes a conversation as the prompt text the model was trained on.
/// It does not run Jinja; the template text only selects the format.
/// </summary>
internal abstract class ChatFormat(string name)
{
    /// <summary>llama.cpp's name for the format ("chatml", "llama3", ...).</summary>
    public string Name { get; } = name;

    /// <summary>Appends the conversation to <paramref name="output"/>; <paramref name="addAssistant"/> ends it with the opening of an assistant turn where the format has one.</summary>
    public abstract void Render(IReadOnlyList<ChatMessage> messages, bool addAssistant, StringBuilder output);

    /// <summary>
    /// Strips what C's <c>isspace</c> calls whitespace (space, \t, \n, \v, \f, \r) from both ends,
    /// as llama-chat.cpp's <c>trim</c>; other Unicode spaces stay.
    /// </summary>
    public static string Trim(string text)
    {
        int start = 0;
        int end = text.Length;
        while (start < end && IsCSpace(text[start]))
        {
            start++;
        }
        while (end > start && IsCSpace(text[end - 1]))
        {
            end--;
        }
        return start == 0 && end == text.Length ? text : text[start..end];
    }

    /// <summary>ASCII upper case, as C's <c>toupper</c> in the "C" locale: bytes of other characters are unchanged.</summary>
    public static string AsciiUpper(string text)
    {
        return string.Create(text.Length, text, static (span, s) =>
        {
            for (int i = 0; i < s.Length; i++)
            {
                span[i] = char.IsAsciiLetterLower(s[i]) ? (char)(s[i] - 32) : s[i];
            }
        });
    }

    private static bool IsCSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';
}
