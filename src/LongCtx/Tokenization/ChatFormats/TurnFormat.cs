using System.Text;

namespace LongCtx.Tokenization.ChatFormats;

/// <summary>How one message is written: text before the content, text after it, and whether the content is trimmed first.</summary>
internal sealed record Turn(string Prefix, string Suffix, bool Trim = false);

/// <summary>Chooses the <see cref="Turn"/> for the message at <paramref name="index"/> of <paramref name="count"/>; null leaves the message out.</summary>
internal delegate Turn? TurnRule(string role, int index, int count);

/// <summary>
/// A format that writes each message on its own, with no state carried between messages:
/// an opening that depends only on the conversation, one <see cref="Turn"/> per message, and the
/// assistant prefix when asked. Most of llama.cpp's formats are of this kind.
/// </summary>
internal sealed class TurnFormat(string name, TurnRule rule, string generationPrompt = "", Func<IReadOnlyList<ChatMessage>, string>? opening = null)
    : ChatFormat(name)
{
    public override void Render(IReadOnlyList<ChatMessage> messages, bool addAssistant, StringBuilder output)
    {
        if (opening != null)
        {
            output.Append(opening(messages));
        }
        for (int i = 0; i < messages.Count; i++)
        {
            ChatMessage message = messages[i];
            if (rule(message.Role, i, messages.Count) is Turn turn)
            {
                output.Append(turn.Prefix).Append(turn.Trim ? Trim(message.Content) : message.Content).Append(turn.Suffix);
            }
        }
        if (addAssistant)
        {
            output.Append(generationPrompt);
        }
    }
}
