using System.Text;

namespace LongCtx.Tokenization.ChatFormats;

/// <summary>
/// Llama 2 chat and its variants ("llama2", "llama2-sys", "llama2-sys-bos", "llama2-sys-strip"):
/// <c>[INST] &lt;&lt;SYS&gt;&gt;\nsystem\n&lt;&lt;/SYS&gt;&gt;\n\nuser [/INST]assistant&lt;/s&gt;[INST] ...</c>.
/// The first BOS is left to the tokenizer; there is no assistant prefix (the prompt ends with [/INST]).
/// See https://huggingface.co/blog/llama2#how-to-prompt-llama-2 and llama-chat.cpp.
/// </summary>
/// <param name="name">llama.cpp's name of the variant.</param>
/// <param name="systemBlock">Wrap system text in &lt;&lt;SYS&gt;&gt; (otherwise it is written before the user text with a newline).</param>
/// <param name="bosInHistory">Start each later turn with &lt;s&gt;.</param>
/// <param name="strip">Trim every message.</param>
internal sealed class Llama2Format(string name, bool systemBlock, bool bosInHistory, bool strip) : ChatFormat(name)
{
    public override void Render(IReadOnlyList<ChatMessage> messages, bool addAssistant, StringBuilder output)
    {
        bool insideTurn = true;
        output.Append("[INST] ");
        foreach (ChatMessage message in messages)
        {
            string content = strip ? Trim(message.Content) : message.Content;
            if (!insideTurn)
            {
                insideTurn = true;
                output.Append(bosInHistory ? "<s>[INST] " : "[INST] ");
            }
            if (message.Role == "system")
            {
                output.Append(systemBlock ? $"<<SYS>>\n{content}\n<</SYS>>\n\n" : content + "\n");
            }
            else if (message.Role == "user")
            {
                output.Append(content).Append(" [/INST]");
            }
            else
            {
                output.Append(content).Append("</s>");
                insideTurn = false;
            }
        }
    }
}
