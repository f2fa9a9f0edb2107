using LongCtx.Eval.Running;
using LongCtx.Generation;
using LongCtx.KvCache;
using LongCtx.Models;

namespace LongCtx.Cli;

/// <summary>
/// How <c>longctx eval</c> turns a model path into an <see cref="IEvalEngine"/>: loads the GGUF and
/// runs <see cref="SessionEngine"/> over it with the model's tokenizer, prompt format and KV method
/// registry, each supplied by the room of the engine that owns it.
/// </summary>
/// <param name="tokenizer">The model's text tokenizer; null: models cannot be run (reports still can).</param>
/// <param name="methods">Spec to press and selector; null: <see cref="KvMethodRegistry.Parse"/>, as <c>generate --kv</c>.</param>
/// <param name="format">The model's prompt format; null: plain input + answer prefix.</param>
internal sealed class EvalEngineSource(
    Func<Model, IEvalTokenizer>? tokenizer,
    Func<string, KvMethod>? methods = null,
    Func<Model, PromptFormat>? format = null)
{
    private readonly Func<string, KvMethod> _methods = methods ?? KvMethodRegistry.Parse;

    /// <summary>Checks every method spec before any model is loaded or any sample generated.</summary>
    /// <exception cref="ArgumentException">A spec is invalid; the message names it (and what is wrong in it).</exception>
    public void ValidateMethods(IEnumerable<string> specs)
    {
        foreach (string spec in specs)
        {
            if (!KvMethodRegistry.IsNone(spec))
            {
                _methods(spec);
            }
        }
    }

    /// <summary>Checks that models can be run: every model run needs a text tokenizer.</summary>
    /// <exception cref="NotSupportedException">No tokenizer was supplied to this build of the command.</exception>
    public void EnsureUsable()
    {
        if (tokenizer is null)
        {
            throw new NotSupportedException("this build of longctx has no text tokenizer to give `eval`, so it cannot run a model; `--report-only` still rebuilds reports");
        }
    }

    /// <summary>Opens <paramref name="path"/> as an engine; disposing the engine unloads the model.</summary>
    /// <exception cref="NotSupportedException">No tokenizer was supplied to this build of the command.</exception>
    public IEvalEngine Open(string path, int threads, KvCacheType kvType)
    {
        EnsureUsable();
        Model model = Model.Load(path, new ModelOptions { Threads = threads });
        try
        {
            var options = new SessionEngineOptions
            {
                Methods = _methods,
                Session = new SessionOptions { KvCacheType = kvType },
            };
            if (format is not null)
            {
                options = options with { Format = format(model) };
            }
            return new OwningEngine(model, new SessionEngine(model, tokenizer!(model), Path.GetFileName(path), options));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>An engine that unloads its model when the runner is done with it.</summary>
    private sealed class OwningEngine(Model model, SessionEngine engine) : IEvalEngine, IDisposable
    {
        public string ModelName => engine.ModelName;
        public int PromptOverhead => engine.PromptOverhead;
        public int Count(string text) => engine.Count(text);
        public void ValidateMethod(string method) => engine.ValidateMethod(method);
        public EngineResult Generate(string input, string answerPrefix, string method, int maxNewTokens) =>
            engine.Generate(input, answerPrefix, method, maxNewTokens);
        public void Dispose() => model.Dispose();
    }
}
