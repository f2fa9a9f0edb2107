using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LongCtx.Server.Api;

/// <summary>POST /v1/completions: a raw text prompt, then generation.</summary>
internal static class CompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext context, ServerState state)
    {
        using JsonDocument body = await RequestBody.ReadObjectAsync(context.Request, state.Options.MaxRequestBodyBytes, context.RequestAborted);
        JsonElement root = body.RootElement;
        GenerationParameters p = GenerationParameters.Parse(root, state.Tokenizer.EndOfGenerationTokens);
        PromptChecks.Model(state, p.Model);
        int[] prompt = state.Tokenizer.Encode(PromptText(root), addSpecial: true, parseSpecial: true);
        PromptChecks.Length(state, prompt, "prompt");
        await CompletionResponder.RespondAsync(context, state, p, prompt, chat: false);
    }

    /// <summary>A string, or an array holding exactly one string (several prompts per request are not supported).</summary>
    private static string PromptText(JsonElement root)
    {
        if (!root.TryGetProperty("prompt", out JsonElement prompt) || prompt.ValueKind == JsonValueKind.Null)
        {
            throw new ApiException(400, "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter");
        }
        if (prompt.ValueKind == JsonValueKind.String)
        {
            return prompt.GetString()!;
        }
        if (prompt.ValueKind == JsonValueKind.Array && prompt.GetArrayLength() == 1 && prompt[0].ValueKind == JsonValueKind.String)
        {
            return prompt[0].GetString()!;
        }
        throw ApiException.BadParameter("prompt", "prompt must be a string (or an array of one string).");
    }
}
