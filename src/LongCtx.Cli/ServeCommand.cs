using System.CommandLine;
using LongCtx.KvCache;
using LongCtx.Server;
using LongCtx.Tokenization;

namespace LongCtx.Cli;

/// <summary><c>longctx serve</c>: the OpenAI-compatible HTTP server over one model, until Ctrl+C.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = "GGUF model file", Required = true };
        var host = new Option<string>("--host") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port (0 = any free port)", DefaultValueFactory = _ => 8080 };
        var apiKey = new Option<string?>("--api-key") { Description = "Require 'Authorization: Bearer KEY' (also read from LONGCTX_API_KEY)" };
        var ctx = new Option<int>("--ctx", "--ctx-size", "-c") { Description = "Context size per sequence in tokens (0 = min(model's, 4096))", DefaultValueFactory = _ => 0 };
        var parallel = new Option<int>("--parallel", "-np") { Description = "Sequences generated at once; more requests queue", DefaultValueFactory = _ => 4 };
        var maxPrompt = new Option<int>("--max-prompt-tokens") { Description = "Longest prompt accepted (0 = context size - 1)", DefaultValueFactory = _ => 0 };
        var timeout = new Option<double>("--timeout") { Description = "Seconds before a request is cancelled", DefaultValueFactory = _ => 600 };
        var threads = new Option<int>("--threads", "-t") { Description = "Worker threads (0 = all cores)", DefaultValueFactory = _ => 0 };
        var kvType = new Option<KvCacheType>("--kv-type") { Description = "KV cache element type", DefaultValueFactory = _ => KvCacheType.F16 };
        var alias = new Option<string?>("--alias") { Description = "Model id in /v1/models (default: the file name)" };
        var template = new Option<string?>("--chat-template") { Description = "Built-in chat template name overriding the file's" };
        var prefixCache = new Option<int>("--prefix-cache-mb") { Description = "MiB of KV the prefix cache keeps for reuse across requests (0 = off)", DefaultValueFactory = _ => 512 };
        var prefixBlock = new Option<int>("--prefix-block") { Description = "Tokens per prefix-cache block (prefixes are reused in whole blocks)", DefaultValueFactory = _ => 16 };
        var command = new Command("serve", "OpenAI-compatible HTTP server (chat, completions, tokenize, metrics)")
        {
            model, host, port, apiKey, ctx, parallel, maxPrompt, timeout, threads, kvType, alias, template, prefixCache, prefixBlock,
        };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var options = new ServerOptions
            {
                ModelPath = parse.GetValue(model)!.FullName,
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                ApiKey = parse.GetValue(apiKey) ?? NullIfEmpty(Environment.GetEnvironmentVariable("LONGCTX_API_KEY")),
                ContextSize = parse.GetValue(ctx),
                Parallel = parse.GetValue(parallel),
                MaxPromptTokens = parse.GetValue(maxPrompt),
                RequestTimeout = TimeSpan.FromSeconds(parse.GetValue(timeout) > 0 ? parse.GetValue(timeout) : throw new ArgumentException("--timeout must be > 0")),
                Threads = parse.GetValue(threads),
                KvCacheType = parse.GetValue(kvType),
                ModelAlias = parse.GetValue(alias),
                ChatTemplate = parse.GetValue(template),
                PrefixCacheBytes = (long)parse.GetValue(prefixCache) << 20,
                PrefixBlockTokens = parse.GetValue(prefixBlock),
            };
            return Serve(options).GetAwaiter().GetResult();
        }));
        return command;
    }

    private static async Task<int> Serve(ServerOptions options)
    {
        LongCtxServer server;
        try
        {
            server = await LongCtxServer.StartAsync(options);
        }
        catch (ChatTemplateException e)
        {
            throw new ArgumentException(e.Message, e);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"cannot listen on {options.Host}:{options.Port}: {e.Message}", e);
        }
        await using (server)
        {
            // One plain line on stdout, so scripts (and tests) can read the address when --port is 0.
            Console.WriteLine($"longctx serving {server.ModelId} on {server.Address} (Ctrl+C to stop)");
            Console.Out.Flush();
            await server.WaitForShutdownAsync();
        }
        return 0;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
