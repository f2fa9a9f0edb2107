using System.Net;
using System.Security.Cryptography;
using System.Text;
using LongCtx.Generation;
using LongCtx.Models;
using LongCtx.Server.Api;
using LongCtx.Server.Scheduling;
using LongCtx.Tokenization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace LongCtx.Server;

/// <summary>
/// An OpenAI-compatible HTTP server over one model: /v1/chat/completions, /v1/completions,
/// /v1/models, /tokenize, /detokenize, /health and /metrics. Handlers parse, check and tokenize,
/// then queue the prompt; one scheduler thread owns the model and interleaves the running sequences,
/// each starting from the longest cached prefix of its prompt.
/// </summary>
public sealed class LongCtxServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Model _model;
    private readonly Scheduler _scheduler;

    private LongCtxServer(WebApplication app, Model model, Scheduler scheduler, Uri address, string modelId)
    {
        _app = app;
        _model = model;
        _scheduler = scheduler;
        Address = address;
        ModelId = modelId;
    }

    /// <summary>The address the server listens on (with the real port when <see cref="ServerOptions.Port"/> was 0).</summary>
    public Uri Address { get; }

    /// <summary>The id requests name the model by.</summary>
    public string ModelId { get; }

    /// <summary>Loads the model and starts listening.</summary>
    /// <exception cref="ArgumentException">An option is out of range (named).</exception>
    /// <exception cref="FileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="Gguf.GgufFormatException">The model file is malformed.</exception>
    /// <exception cref="ChatTemplateException">The file's chat template, or the one named, is not a known format.</exception>
    /// <exception cref="NotSupportedException">The model's tokenizer is not implemented (the server needs text in and out).</exception>
    public static async Task<LongCtxServer> StartAsync(ServerOptions options, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        Model model = Model.Load(options.ModelPath, new ModelOptions { Threads = options.Threads });
        Scheduler? scheduler = null;
        try
        {
            _ = model.Tokenizer;   // fail now, not on the first request
            ChatTemplate template = options.ChatTemplate != null ? ChatTemplate.FromName(options.ChatTemplate)
                : ChatTemplate.FromGguf(model.File) ?? ChatTemplate.FromName("chatml");
            var sessionOptions = new Generation.SessionOptions { ContextSize = options.ContextSize, KvCacheType = options.KvCacheType };
            int contextSize = options.ContextSize > 0 ? options.ContextSize : Math.Min(model.Config.ContextLength, 4096);
            string modelId = options.ModelAlias ?? Path.GetFileName(options.ModelPath);
            var metrics = new ServerMetrics();
            PrefixCache? prefixCache = options.PrefixCacheBytes > 0 ? new PrefixCache(options.PrefixBlockTokens, options.PrefixCacheBytes, metrics) : null;
            scheduler = new Scheduler(model, sessionOptions, options.Parallel, options.PrefillChunk, prefixCache, metrics);
            var state = new ServerState(options, model, template, modelId, contextSize, scheduler, metrics);

            WebApplication app = Build(options, state);
            await app.StartAsync(cancel);
            string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new LongCtxServer(app, model, scheduler, new Uri(url), modelId);
        }
        catch
        {
            scheduler?.Dispose();
            model.Dispose();
            throw;
        }
    }

    /// <summary>Waits until the server stops (Ctrl+C, SIGTERM, or <paramref name="cancel"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancel = default) => _app.WaitForShutdownAsync(cancel);

    /// <summary>Stops listening, ends running sequences and unloads the model.</summary>
    public async ValueTask DisposeAsync()
    {
        _scheduler.Dispose();   // first: open streams get their failure event and end
        await _app.StopAsync();
        await _app.DisposeAsync();
        _model.Dispose();
    }

    private static void Validate(ServerOptions o)
    {
        if (string.IsNullOrEmpty(o.ModelPath))
        {
            throw new ArgumentException("ServerOptions.ModelPath is required", nameof(o));
        }
        if (o.Port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(o), o.Port, "Port must be in [0, 65535]");
        }
        if (o.Parallel < 1 || o.PrefillChunk < 1 || o.ContextSize < 0 || o.MaxPromptTokens < 0 || o.MaxRequestBodyBytes < 1 || o.RequestTimeout <= TimeSpan.Zero
            || o.PrefixCacheBytes < 0 || o.PrefixBlockTokens < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(o),
                "Parallel, PrefillChunk and PrefixBlockTokens must be >= 1, ContextSize, MaxPromptTokens and PrefixCacheBytes >= 0, MaxRequestBodyBytes >= 1, RequestTimeout > 0");
        }
        if (o.ApiKey is { Length: 0 })
        {
            throw new ArgumentException("ApiKey is empty; leave it null for no key", nameof(o));
        }
    }

    private static WebApplication Build(ServerOptions options, ServerState state)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.Listen(IPAddress.Parse(options.Host == "localhost" ? "127.0.0.1" : options.Host), options.Port);
        });
        WebApplication app = builder.Build();
        byte[]? key = options.ApiKey == null ? null : Encoding.UTF8.GetBytes("Bearer " + options.ApiKey);
        app.Use(async (context, next) =>
        {
            if (key != null && context.Request.Path != "/health" && !Authorized(context, key))
            {
                state.Metrics.Request(context.Request.Path, 401);
                await ErrorJson.WriteAsync(context, new ApiException(401, "Incorrect or missing API key: send 'Authorization: Bearer KEY'.", code: "invalid_api_key"));
                return;
            }
            await next(context);
        });

        Map(app, state, "POST", "/v1/chat/completions", ChatCompletionsEndpoint.HandleAsync);
        Map(app, state, "POST", "/chat/completions", ChatCompletionsEndpoint.HandleAsync);
        Map(app, state, "POST", "/v1/completions", CompletionsEndpoint.HandleAsync);
        Map(app, state, "POST", "/completions", CompletionsEndpoint.HandleAsync);
        Map(app, state, "GET", "/v1/models", ModelsEndpoint.HandleAsync);
        Map(app, state, "GET", "/models", ModelsEndpoint.HandleAsync);
        Map(app, state, "POST", "/tokenize", TokenizeEndpoints.TokenizeAsync);
        Map(app, state, "POST", "/detokenize", TokenizeEndpoints.DetokenizeAsync);
        app.MapGet("/health", () => Results.Text("{\"status\":\"ok\"}", "application/json"));
        app.MapGet("/metrics", async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4";
            await state.Metrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
        });
        app.MapFallback(context => ErrorJson.WriteAsync(context,
            new ApiException(404, $"Unknown endpoint {context.Request.Method} {context.Request.Path}.", code: "unknown_url")));
        return app;
    }

    private static bool Authorized(HttpContext context, byte[] expected)
    {
        string header = context.Request.Headers.Authorization.ToString();
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header), expected);
    }

    /// <summary>Maps a route whose handler may throw <see cref="ApiException"/> (or a named engine error: 400); counts the answer.</summary>
    private static void Map(WebApplication app, ServerState state, string method, string path, Func<HttpContext, ServerState, Task> handler)
    {
        app.MapMethods(path, [method], async context =>
        {
            try
            {
                await handler(context, state);
            }
            catch (ApiException e) when (!context.Response.HasStarted)
            {
                await ErrorJson.WriteAsync(context, e);
            }
            catch (Exception e) when (!context.Response.HasStarted && e is ArgumentException or ChatTemplateException)
            {
                // Named engine errors about the input (invalid UTF-8, unknown special token, a role the template lacks).
                await ErrorJson.WriteAsync(context, new ApiException(400, e.Message));
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // the client went away; its sequence was cancelled with it
            }
            state.Metrics.Request(path, context.Response.StatusCode);
        });
    }
}
