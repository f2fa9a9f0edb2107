using System.Buffers;
using System.Text.Json;
using LongCtx.Server.Scheduling;
using Microsoft.AspNetCore.Http;

namespace LongCtx.Server.Api;

/// <summary>
/// Queues a tokenized prompt and answers with what the scheduler sends back: one JSON object, or
/// server-sent events as OpenAI streams them. Chat and text completions differ only in JSON shape.
/// </summary>
internal static class CompletionResponder
{
    private static ReadOnlySpan<byte> DataPrefix => "data: "u8;
    private static ReadOnlySpan<byte> EventEnd => "\n\n"u8;

    public static async Task RespondAsync(HttpContext context, ServerState state, GenerationParameters p, int[] prompt, bool chat)
    {
        int maxTokens = p.MaxTokens ?? (chat ? int.MaxValue : 16);   // OpenAI's default for completions is 16
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        cancel.CancelAfter(state.Options.RequestTimeout);
        var request = new SequenceRequest(prompt, p.Sampling, p.Stop, maxTokens, p.Kv, cancel.Token);
        var shape = new Shape(chat, (chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), state.ModelId);
        state.Scheduler.Enqueue(request);
        try
        {
            if (p.Stream)
            {
                await StreamAsync(context, request, shape, p.IncludeUsage, cancel.Token);
            }
            else
            {
                await CollectAsync(context, request, shape, cancel.Token);
            }
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            var timeout = new ApiException(408, $"The request did not finish within the server's timeout of {state.Options.RequestTimeout.TotalSeconds:0.#} s.", code: "timeout", type: "timeout_error");
            if (!context.Response.HasStarted)
            {
                throw timeout;
            }
            await WriteEventAsync(context.Response, json => ErrorJson.Write(json, timeout.Message, timeout.Type, null, timeout.Code), CancellationToken.None);
        }
        finally
        {
            cancel.Cancel();   // whatever ended this handler, the sequence stops and frees its session
        }
    }

    private static async Task CollectAsync(HttpContext context, SequenceRequest request, Shape shape, CancellationToken cancel)
    {
        var text = new System.Text.StringBuilder();
        FinishedEvent? finished = null;
        await foreach (SequenceEvent e in request.Events.Reader.ReadAllAsync(cancel))
        {
            switch (e)
            {
                case TextEvent t:
                    text.Append(t.Text);
                    break;
                case FinishedEvent f:
                    finished = f;
                    break;
                case FailedEvent f:
                    throw new ApiException(500, f.Message, code: null, type: "server_error");
            }
        }
        cancel.ThrowIfCancellationRequested();
        if (finished == null)
        {
            throw new ApiException(500, "the sequence ended without an answer", type: "server_error");
        }
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        shape.WriteHeader(json, chunk: false);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        if (shape.Chat)
        {
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            json.WriteString("content", text.ToString());
            json.WriteEndObject();
        }
        else
        {
            json.WriteString("text", text.ToString());
            json.WriteNull("logprobs");
        }
        json.WriteString("finish_reason", finished.FinishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        WriteUsage(json, finished);
        json.WriteEndObject();
    }

    private static async Task StreamAsync(HttpContext context, SequenceRequest request, Shape shape, bool includeUsage, CancellationToken cancel)
    {
        HttpResponse response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        if (shape.Chat)
        {
            await WriteEventAsync(response, json => shape.WriteChunk(json, "", role: true, finishReason: null), cancel);
        }
        else
        {
            await response.StartAsync(cancel);
        }
        await foreach (SequenceEvent e in request.Events.Reader.ReadAllAsync(cancel))
        {
            switch (e)
            {
                case TextEvent t:
                    await WriteEventAsync(response, json => shape.WriteChunk(json, t.Text, role: false, finishReason: null), cancel);
                    break;
                case FinishedEvent f:
                    await WriteEventAsync(response, json => shape.WriteChunk(json, null, role: false, finishReason: f.FinishReason), cancel);
                    if (includeUsage)
                    {
                        await WriteEventAsync(response, json =>
                        {
                            json.WriteStartObject();
                            shape.WriteHeader(json, chunk: true);
                            json.WriteStartArray("choices");
                            json.WriteEndArray();
                            WriteUsage(json, f);
                            json.WriteEndObject();
                        }, cancel);
                    }
                    await response.Body.WriteAsync("data: [DONE]\n\n"u8.ToArray(), cancel);
                    await response.Body.FlushAsync(cancel);
                    return;
                case FailedEvent f:
                    await WriteEventAsync(response, json => ErrorJson.Write(json, f.Message, "server_error", null, null), cancel);
                    return;
            }
        }
        cancel.ThrowIfCancellationRequested();
    }

    private static async Task WriteEventAsync(HttpResponse response, Action<Utf8JsonWriter> write, CancellationToken cancel)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write(DataPrefix);
        using (var json = new Utf8JsonWriter(buffer))
        {
            write(json);
        }
        buffer.Write(EventEnd);
        await response.Body.WriteAsync(buffer.WrittenMemory, cancel);
        await response.Body.FlushAsync(cancel);
    }

    /// <summary>
    /// OpenAI's usage (with <c>prompt_tokens_details.cached_tokens</c>: the prompt tokens the prefix
    /// cache served), then our extension <c>"longctx"</c>: tokens prefilled and the KV the sequence held at its end.
    /// </summary>
    private static void WriteUsage(Utf8JsonWriter json, FinishedEvent f)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", f.PromptTokens);
        json.WriteNumber("completion_tokens", f.CompletionTokens);
        json.WriteNumber("total_tokens", f.PromptTokens + f.CompletionTokens);
        json.WriteStartObject("prompt_tokens_details");
        json.WriteNumber("cached_tokens", f.CachedTokens);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteStartObject("longctx");
        json.WriteNumber("prefilled_tokens", f.PromptTokens - f.CachedTokens);
        json.WriteNumber("cached_tokens", f.CachedTokens);
        json.WriteNumber("kv_cache_bytes", f.KvCacheBytes);
        json.WriteNumber("kv_cache_entries", f.KvCacheEntries);
        json.WriteEndObject();
    }

    /// <summary>The fields every response and chunk of one request repeats.</summary>
    private sealed record Shape(bool Chat, string Id, long Created, string Model)
    {
        public void WriteHeader(Utf8JsonWriter json, bool chunk)
        {
            json.WriteString("id", Id);
            json.WriteString("object", Chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion");
            json.WriteNumber("created", Created);
            json.WriteString("model", Model);
        }

        /// <summary>A streamed chunk: <paramref name="text"/> null for the closing chunk (empty delta, finish reason set).</summary>
        public void WriteChunk(Utf8JsonWriter json, string? text, bool role, string? finishReason)
        {
            json.WriteStartObject();
            WriteHeader(json, chunk: true);
            json.WriteStartArray("choices");
            json.WriteStartObject();
            json.WriteNumber("index", 0);
            if (Chat)
            {
                json.WriteStartObject("delta");
                if (role)
                {
                    json.WriteString("role", "assistant");
                }
                if (text != null)
                {
                    json.WriteString("content", text);
                }
                json.WriteEndObject();
            }
            else
            {
                json.WriteString("text", text ?? "");
                json.WriteNull("logprobs");
            }
            json.WriteString("finish_reason", finishReason);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }
    }
}
