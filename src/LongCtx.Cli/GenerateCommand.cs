using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LongCtx.Generation;
using LongCtx.KvCache;
using LongCtx.Models;

namespace LongCtx.Cli;

/// <summary><c>longctx generate</c>: greedy decoding from token ids (text in and out arrives with the tokenizer).</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = "GGUF model file", Required = true };
        var tokens = new Option<string>("--tokens") { Description = "Prompt as token ids separated by spaces or commas, e.g. \"1 2 3\"", Required = true };
        var count = new Option<int>("--n-predict", "-n") { Description = "Tokens to generate", DefaultValueFactory = _ => 16 };
        var ctx = new Option<int>("--ctx-size", "-c") { Description = "Context size in tokens (0 = min(model's, 4096))", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads", "-t") { Description = "Worker threads (0 = physical cores)", DefaultValueFactory = _ => 0 };
        var kvType = new Option<KvCacheType>("--kv-type") { Description = "KV cache element type", DefaultValueFactory = _ => KvCacheType.F16 };
        var command = new Command("generate", "Greedy generation from token ids") { model, tokens, count, ctx, threads, kvType };
        command.SetAction(parse => CliErrors.Run(() => Run(
            parse.GetValue(model)!, parse.GetValue(tokens)!, parse.GetValue(count), parse.GetValue(ctx), parse.GetValue(threads), parse.GetValue(kvType))));
        return command;
    }

    private static int Run(FileInfo path, string tokenText, int count, int contextSize, int threads, KvCacheType kvType)
    {
        int[] prompt = ParseTokens(tokenText);
        var load = Stopwatch.StartNew();
        using Model model = Model.Load(path.FullName, new ModelOptions { Threads = threads });
        var session = new Session(model, new SessionOptions { ContextSize = contextSize, KvCacheType = kvType });
        load.Stop();

        var prefill = Stopwatch.StartNew();
        ReadOnlySpan<float> logits = session.Prefill(prompt);
        prefill.Stop();

        var decode = Stopwatch.StartNew();
        int generated = 0;
        for (int i = 0; i < count && session.Position < session.ContextSize; i++)
        {
            int next = Greedy.Argmax(logits);
            Console.Write(next.ToString(CultureInfo.InvariantCulture));
            Console.Write(i + 1 < count ? ' ' : '\n');
            generated++;
            if (i + 1 < count && session.Position < session.ContextSize)
            {
                logits = session.Decode(next);
            }
        }
        decode.Stop();
        Console.Out.Flush();

        // Plain stderr, unwrapped, so the ids on stdout stay machine-readable.
        Console.Error.WriteLine(
            $"load {load.Elapsed.TotalMilliseconds:F0} ms | prompt {prompt.Length} tokens, {Rate(prompt.Length, prefill.Elapsed):F1} t/s | " +
            $"generated {generated} tokens, {Rate(Math.Max(generated - 1, 0), decode.Elapsed):F1} t/s | KV cache {session.KvCacheBytes / (1024.0 * 1024.0):F1} MiB");
        return 0;
    }

    private static double Rate(int tokens, TimeSpan elapsed) => elapsed.TotalSeconds > 0 ? tokens / elapsed.TotalSeconds : 0;

    private static int[] ParseTokens(string text)
    {
        string[] parts = text.Split([' ', ',', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            throw new ArgumentException("--tokens is empty: give at least one token id");
        }
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out ids[i]))
            {
                throw new ArgumentException($"--tokens: '{parts[i]}' is not a token id");
            }
        }
        return ids;
    }
}
