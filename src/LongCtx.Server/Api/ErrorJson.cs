using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LongCtx.Server.Api;

/// <summary>Writes OpenAI's error shape: <c>{"error":{"message","type","param","code"}}</c>.</summary>
internal static class ErrorJson
{
    public static void Write(Utf8JsonWriter json, string message, string type, string? param, string? code)
    {
        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteString("message", message);
        json.WriteString("type", type);
        json.WriteString("param", param);
        json.WriteString("code", code);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    public static async Task WriteAsync(HttpContext context, ApiException error)
    {
        HttpResponse response = context.Response;
        response.StatusCode = error.Status;
        response.ContentType = "application/json";
        if (error.Status == 401)
        {
            response.Headers.WWWAuthenticate = "Bearer";
        }
        await using (var json = new Utf8JsonWriter(response.Body))
        {
            Write(json, error.Message, error.Type, error.Param, error.Code);
        }
    }
}
