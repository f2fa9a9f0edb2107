using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LongCtx.Server.Api;

/// <summary>Reads a request body as one JSON object, within the size limit.</summary>
internal static class RequestBody
{
    public static async Task<JsonDocument> ReadObjectAsync(HttpRequest request, long limit, CancellationToken cancel)
    {
        if (request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, default, cancel);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(limit);
        }
        catch (JsonException e)
        {
            throw new ApiException(400, $"The request body is not valid JSON: {e.Message}", code: "invalid_json");
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new ApiException(400, "The request body must be a JSON object.", code: "invalid_json");
        }
        return document;
    }

    private static ApiException TooLarge(long limit) =>
        new(413, $"The request body is larger than the server's limit of {limit} bytes.", code: "request_too_large");
}
