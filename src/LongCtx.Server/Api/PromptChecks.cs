namespace LongCtx.Server.Api;

/// <summary>Checks every generation request makes before it is queued.</summary>
internal static class PromptChecks
{
    public static void Model(ServerState state, string? model)
    {
        if (model != null && model.Length > 0 && model != state.ModelId)
        {
            throw new ApiException(404, $"The model '{model}' does not exist. This server serves '{state.ModelId}'.", "model", "model_not_found");
        }
    }

    public static void Length(ServerState state, int[] prompt, string param)
    {
        if (prompt.Length == 0)
        {
            throw ApiException.BadParameter(param, "The prompt is empty (no tokens).");
        }
        if (prompt.Length > state.MaxPromptTokens)
        {
            throw new ApiException(400,
                $"The prompt is {prompt.Length} tokens long; this server accepts at most {state.MaxPromptTokens} (context {state.ContextSize}).",
                param, "context_length_exceeded");
        }
    }
}
