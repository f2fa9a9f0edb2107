using System.Text;
using System.Text.Json;
using LongCtx.Tokenization;
using Microsoft.AspNetCore.Http;

namespace LongCtx.Server.Api;

/// <summary>POST /v1/chat/completions: messages through the chat template, then generation.</summary>
internal static class ChatCompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext context, ServerState state)
    {
        using JsonDocument body = await RequestBody.ReadObjectAsync(context.Request, state.Options.MaxRequestBodyBytes, context.RequestAborted);
        JsonElement root = body.RootElement;
        GenerationParameters p = GenerationParameters.Parse(root, state.Tokenizer.EndOfGenerationTokens);
        PromptChecks.Model(state, p.Model);
        List<ChatMessage> messages = Messages(root);
        string text = state.Template.Render(messages, addAssistant: true);
        int[] prompt = state.Tokenizer.Encode(text, addSpecial: true, parseSpecial: true);
        PromptChecks.Length(state, prompt, "messages");
        await CompletionResponder.RespondAsync(context, state, p, prompt, chat: true);
    }

    private static List<ChatMessage> Messages(JsonElement root)
    {
        if (!root.TryGetProperty("messages", out JsonElement list) || list.ValueKind == JsonValueKind.Null)
        {
            throw new ApiException(400, "Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
        }
        if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
        {
            throw ApiException.BadParameter("messages", "messages must be a non-empty array of {role, content} objects.");
        }
        var messages = new List<ChatMessage>(list.GetArrayLength());
        int i = 0;
        foreach (JsonElement m in list.EnumerateArray())
        {
            string param = $"messages[{i++}]";
            if (m.ValueKind != JsonValueKind.Object || !m.TryGetProperty("role", out JsonElement role) || role.ValueKind != JsonValueKind.String)
            {
                throw ApiException.BadParameter(param, $"{param} must be an object with a string 'role'.");
            }
            messages.Add(new ChatMessage(role.GetString()!, Content(m, param)));
        }
        return messages;
    }

    /// <summary>A string, an array of text parts (other part types are refused), or null/absent (e.g. an assistant turn with tool calls).</summary>
    private static string Content(JsonElement message, string param)
    {
        if (!message.TryGetProperty("content", out JsonElement content) || content.ValueKind == JsonValueKind.Null)
        {
            return "";
        }
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            throw ApiException.BadParameter($"{param}.content", "content must be a string or an array of text parts.");
        }
        var text = new StringBuilder();
        foreach (JsonElement part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out JsonElement type) || type.ValueKind != JsonValueKind.String
                || type.GetString() != "text" || !part.TryGetProperty("text", out JsonElement t) || t.ValueKind != JsonValueKind.String)
            {
                throw ApiException.BadParameter($"{param}.content", "only text content parts ({\"type\":\"text\",\"text\":...}) are supported.");
            }
            text.Append(t.GetString());
        }
        return text.ToString();
    }
}
