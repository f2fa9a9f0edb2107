using System.CommandLine;
using LongCtx.Models;
using LongCtx.Server;

namespace LongCtx.Cli;

/// <summary><c>longctx serve-load</c>: a bounded load run against an in-process server on loopback (<see cref="ServeLoad"/>).</summary>
internal static class ServeLoadCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo?>("--model", "-m") { Description = "GGUF model file (default: a random-weight tiny-qwen2 Q8_0 model written to a temporary file)" };
        var clients = new Option<int>("--clients") { Description = "Concurrent clients", DefaultValueFactory = _ => 16 };
        var duration = new Option<double>("--duration") { Description = "Seconds during which clients start requests (those in flight then finish)", DefaultValueFactory = _ => 60 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Longest answer asked for (each request asks for 8 up to this)", DefaultValueFactory = _ => 32 };
        var parallel = new Option<int>("--parallel", "-np") { Description = "Sequences the server generates at once", DefaultValueFactory = _ => 4 };
        var ctx = new Option<int>("--ctx", "-c") { Description = "Context size per sequence", DefaultValueFactory = _ => 2048 };
        var threads = new Option<int>("--threads", "-t") { Description = "Worker threads (0 = all cores)", DefaultValueFactory = _ => 0 };
        var prefixCache = new Option<int>("--prefix-cache-mb") { Description = "Prefix cache budget in MiB (0 = off)", DefaultValueFactory = _ => 64 };
        var promptChars = new Option<int>("--prompt-chars") { Description = "Characters of each shared system prompt (user messages add 20 up to a third of it)", DefaultValueFactory = _ => 600 };
        var seed = new Option<int>("--seed") { Description = "Seed of prompts, lengths and sampling", DefaultValueFactory = _ => 1 };
        var command = new Command("serve-load", "Bounded load run on loopback: N clients for a while against an in-process server; reports requests/s, tokens/s, KV bytes after")
        {
            model, clients, duration, maxTokens, parallel, ctx, threads, prefixCache, promptChars, seed,
        };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            string? temp = null;
            string path;
            if (parse.GetValue(model) is FileInfo file)
            {
                path = file.FullName;
            }
            else
            {
                path = temp = Path.Combine(Path.GetTempPath(), $"longctx-serve-load-{Environment.ProcessId}.gguf");
                SyntheticModel.Write(path, new SyntheticShape { Architecture = "qwen2" }, Tensors.GgmlType.Q8_0);
            }
            try
            {
                var options = new ServeLoadOptions
                {
                    ModelPath = path,
                    Clients = parse.GetValue(clients),
                    Duration = TimeSpan.FromSeconds(parse.GetValue(duration) > 0 ? parse.GetValue(duration) : throw new ArgumentException("--duration must be > 0")),
                    MaxTokens = parse.GetValue(maxTokens),
                    PromptChars = parse.GetValue(promptChars),
                    Seed = parse.GetValue(seed),
                    Server = new ServerOptions
                    {
                        Parallel = parse.GetValue(parallel),
                        ContextSize = parse.GetValue(ctx),
                        Threads = parse.GetValue(threads),
                        PrefixCacheBytes = (long)parse.GetValue(prefixCache) << 20,
                    },
                };
                ServeLoadReport report = ServeLoad.RunAsync(options, Console.Out).GetAwaiter().GetResult();
                ServeLoad.Print(report, Console.Out);
                return report.Passed ? 0 : 1;
            }
            finally
            {
                if (temp != null)
                {
                    File.Delete(temp);
                }
            }
        }));
        return command;
    }
}
