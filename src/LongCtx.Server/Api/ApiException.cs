namespace LongCtx.Server.Api;

/// <summary>A request the server refuses, answered as OpenAI's error JSON with <see cref="Status"/>.</summary>
internal sealed class ApiException(int status, string message, string? param = null, string? code = null, string type = "invalid_request_error")
    : Exception(message)
{
    public int Status { get; } = status;
    public string? Param { get; } = param;
    public string? Code { get; } = code;
    public string Type { get; } = type;

    public static ApiException BadParameter(string param, string message) => new(400, message, param, "invalid_value");
}
