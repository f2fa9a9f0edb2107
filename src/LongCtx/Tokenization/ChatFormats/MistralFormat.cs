using System.Text;

namespace LongCtx.Tokenization.ChatFormats;

/// <summary>
/// Mistral's "v1", "v3" and "v3-tekken" instruct formats: a system message goes inside the next
/// [INST] block, followed by two newlines; there is no assistant prefix. They differ only in spaces
/// (v1: " [INST] ... [/INST]", v3: "[INST] ...[/INST] answer", tekken: no spaces) and in v3 trimming
/// the assistant's text. See mistralai/cookbook concept-deep-dive/tokenization and llama-chat.cpp.
/// </summary>
internal sealed class MistralFormat(string name, string leadingSpace, string trailingSpace, bool trimAssistant) : ChatFormat(name)
{
    public override void Render(IReadOnlyList<ChatMessage> messages, bool addAssistant, StringBuilder output)
    {
        bool insideTurn = false;
        foreach (ChatMessage message in messages)
        {
            if (!insideTurn)
            {
                output.Append(leadingSpace).Append("[INST]").Append(trailingSpace);
                insideTurn = true;
            }
            if (message.Role == "system")
            {
                output.Append(message.Content).Append("\n\n");
            }
            else if (message.Role == "user")
            {
                output.Append(message.Content).Append(leadingSpace).Append("[/INST]");
            }
            else
            {
                output.Append(trailingSpace).Append(trimAssistant ? Trim(message.Content) : message.Content).Append("</s>");
                insideTurn = false;
            }
        }
    }
}
