using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LongCtx.Server.Api;

/// <summary>GET /v1/models: the one model this server serves.</summary>
internal static class ModelsEndpoint
{
    public static async Task HandleAsync(HttpContext context, ServerState state)
    {
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        json.WriteStartObject();
        json.WriteString("id", state.ModelId);
        json.WriteString("object", "model");
        json.WriteNumber("created", state.Created);
        json.WriteString("owned_by", "longctx");
        json.WriteStartObject("meta");
        json.WriteNumber("n_ctx", state.ContextSize);
        json.WriteNumber("n_ctx_train", state.Model.Config.ContextLength);
        json.WriteNumber("n_vocab", state.Model.Config.VocabSize);
        json.WriteString("chat_template", state.Template.Name);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
