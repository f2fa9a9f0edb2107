using System.Text;

namespace LongCtx.Tokenization.ChatFormats;

/// <summary>
/// OrionStarAI/Orion-14B-Chat ("orion"): <c>Human: ...\n\nAssistant: &lt;/s&gt;answer&lt;/s&gt;</c>.
/// No system role: system text is held and written before the next user text with a blank line.
/// The user turn already ends with the assistant prefix, so there is no separate one.
/// </summary>
internal sealed class OrionFormat() : ChatFormat("orion")
{
    public override void Render(IReadOnlyList<ChatMessage> messages, bool addAssistant, StringBuilder output)
    {
        string systemPrompt = "";
        foreach (ChatMessage message in messages)
        {
            if (message.Role == "system")
            {
                systemPrompt += message.Content;
            }
            else if (message.Role == "user")
            {
                output.Append("Human: ");
                if (systemPrompt.Length > 0)
                {
                    output.Append(systemPrompt).Append("\n\n");
                    systemPrompt = "";
                }
                output.Append(message.Content).Append("\n\nAssistant: </s>");
            }
            else
            {
                output.Append(message.Content).Append("</s>");
            }
        }
    }
}
