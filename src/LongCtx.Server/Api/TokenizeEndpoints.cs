using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LongCtx.Server.Api;

/// <summary>POST /tokenize and /detokenize, in llama.cpp server's shapes.</summary>
internal static class TokenizeEndpoints
{
    /// <summary><c>{"content", "add_special"=false, "parse_special"=true, "with_pieces"=false}</c> → <c>{"tokens":[id...]}</c> or <c>[{"id","piece"}...]</c>.</summary>
    public static async Task TokenizeAsync(HttpContext context, ServerState state)
    {
        using JsonDocument body = await RequestBody.ReadObjectAsync(context.Request, state.Options.MaxRequestBodyBytes, context.RequestAborted);
        JsonElement root = body.RootElement;
        string content = GenerationParameters.OptionalString(root, "content")
            ?? throw new ApiException(400, "Missing required parameter: 'content'.", "content", "missing_required_parameter");
        bool addSpecial = Flag(root, "add_special", false), parseSpecial = Flag(root, "parse_special", true), withPieces = Flag(root, "with_pieces", false);
        int[] tokens = state.Tokenizer.Encode(content, addSpecial, parseSpecial);

        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteStartArray("tokens");
        foreach (int token in tokens)
        {
            if (!withPieces)
            {
                json.WriteNumberValue(token);
                continue;
            }
            json.WriteStartObject();
            json.WriteNumber("id", token);
            ReadOnlySpan<byte> piece = state.Tokenizer.TokenToBytes(token, special: true);
            if (System.Text.Unicode.Utf8.IsValid(piece))
            {
                json.WriteString("piece", piece);
            }
            else
            {
                // A partial UTF-8 character: llama.cpp gives its bytes as numbers.
                json.WriteStartArray("piece");
                foreach (byte b in piece)
                {
                    json.WriteNumberValue(b);
                }
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary><c>{"tokens":[id...]}</c> → <c>{"content": text}</c>.</summary>
    public static async Task DetokenizeAsync(HttpContext context, ServerState state)
    {
        using JsonDocument body = await RequestBody.ReadObjectAsync(context.Request, state.Options.MaxRequestBodyBytes, context.RequestAborted);
        JsonElement root = body.RootElement;
        if (!root.TryGetProperty("tokens", out JsonElement list) || list.ValueKind != JsonValueKind.Array)
        {
            throw new ApiException(400, "Missing required parameter: 'tokens' (an array of token ids).", "tokens", "missing_required_parameter");
        }
        var tokens = new int[list.GetArrayLength()];
        int i = 0;
        foreach (JsonElement t in list.EnumerateArray())
        {
            if (t.ValueKind != JsonValueKind.Number || !t.TryGetInt32(out int id) || (uint)id >= (uint)state.Tokenizer.VocabSize)
            {
                throw ApiException.BadParameter("tokens", $"tokens[{i}] is not a token id in [0, {state.Tokenizer.VocabSize}).");
            }
            tokens[i++] = id;
        }
        string content = state.Tokenizer.Decode(tokens);
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("content", content);
        json.WriteEndObject();
    }

    private static bool Flag(JsonElement root, string name, bool fallback)
    {
        if (!root.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw ApiException.BadParameter(name, $"{name} must be a boolean."),
        };
    }
}
