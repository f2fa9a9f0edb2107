using System.CommandLine;
using System.Diagnostics;
using LongCtx.Generation;
using LongCtx.KvCache;
using LongCtx.Models;

namespace LongCtx.Cli;

/// <summary>The options that choose a model and size its session (-m, -c, -t, --kv-type), shared by generate and chat.</summary>
internal sealed class ModelArgs
{
    private readonly Option<FileInfo?> _model = new("--model", "-m") { Description = $"GGUF model file (default: the built-in model, {BuiltinModel.RelativePath})" };
    private readonly Option<int> _ctx = new("--ctx-size", "-c") { Description = "Context size in tokens (0 = min(model's, 4096))", DefaultValueFactory = _ => 0 };
    private readonly Option<int> _threads = new("--threads", "-t") { Description = "Worker threads (0 = physical cores)", DefaultValueFactory = _ => 0 };
    private readonly Option<KvCacheType> _kvType = new("--kv-type") { Description = "KV cache element type", DefaultValueFactory = _ => KvCacheType.F16 };
    private readonly Option<string> _kv = new("--kv") { Description = "KV method spec applied after prefill, e.g. snapkv:ratio=0.75, snapkv:ratio=0.5+int8, quest:budget=1024 (docs/KV.md)", DefaultValueFactory = _ => "full" };

    public void AddTo(Command command)
    {
        command.Options.Add(_model);
        command.Options.Add(_ctx);
        command.Options.Add(_threads);
        command.Options.Add(_kvType);
        command.Options.Add(_kv);
    }

    /// <summary>The KV method chosen with --kv (its press runs after prefill, its selector at each decode step).</summary>
    /// <exception cref="ArgumentException">The spec names an unknown method, parameter or value.</exception>
    public KvMethod KvMethod(ParseResult parse) => KvMethodRegistry.Parse(parse.GetValue(_kv)!);

    /// <summary>Loads the model and opens a session with the --kv selector; <paramref name="loadTime"/> covers both (llama.cpp's "load time").</summary>
    public (Model Model, Session Session) Load(ParseResult parse, out TimeSpan loadTime)
    {
        KvMethod method = KvMethod(parse);
        string path = BuiltinModel.Resolve(parse.GetValue(_model));
        long start = Stopwatch.GetTimestamp();
        Model model = Model.Load(path, new ModelOptions { Threads = parse.GetValue(_threads) });
        try
        {
            var session = new Session(model, new SessionOptions { ContextSize = parse.GetValue(_ctx), KvCacheType = parse.GetValue(_kvType) })
            {
                Selector = method.Selector,
            };
            loadTime = Stopwatch.GetElapsedTime(start);
            return (model, session);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
