using System.Text;

namespace LongCtx.Tokenization.ChatFormats;

/// <summary>
/// Gemma ("gemma"): <c>&lt;start_of_turn&gt;user\n...&lt;end_of_turn&gt;\n&lt;start_of_turn&gt;model\n</c>.
/// Gemma has no system role: system text (trimmed) is held and written at the top of the next
/// non-model turn, followed by a blank line; "assistant" is written "model"; every content is trimmed.
/// </summary>
internal sealed class GemmaFormat() : ChatFormat("gemma")
{
    public override void Render(IReadOnlyList<ChatMessage> messages, bool addAssistant, StringBuilder output)
    {
        string systemPrompt = "";
        foreach (ChatMessage message in messages)
        {
            if (message.Role == "system")
            {
                systemPrompt += Trim(message.Content);
                continue;
            }
            string role = message.Role == "assistant" ? "model" : message.Role;
            output.Append("<start_of_turn>").Append(role).Append('\n');
            if (systemPrompt.Length > 0 && role != "model")
            {
                output.Append(systemPrompt).Append("\n\n");
                systemPrompt = "";
            }
            output.Append(Trim(message.Content)).Append("<end_of_turn>\n");
        }
        if (addAssistant)
        {
            output.Append("<start_of_turn>model\n");
        }
    }
}
