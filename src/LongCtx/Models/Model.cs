using LongCtx.Gguf;
using LongCtx.Tensors;
using LongCtx.Tokenization;

namespace LongCtx.Models;

/// <summary>Options for loading a model.</summary>
public sealed record ModelOptions
{
    /// <summary>Worker threads for the matrix products and attention; 0 = one per logical core.</summary>
    public int Threads { get; init; }
}

/// <summary>
/// A Llama-family model loaded from a GGUF file: hyper-parameters and read-only weights viewed in
/// place over the memory map. Shared by any number of <see cref="Generation.Session"/>s.
/// </summary>
public sealed class Model : IDisposable
{
    private readonly Tokenizer? _tokenizer;
    private readonly NotSupportedException? _tokenizerUnsupported;

    private Model(GgufFile file, ModelConfig config, ModelWeights weights, WorkerPool pool, Tokenizer? tokenizer, NotSupportedException? unsupported)
    {
        _tokenizer = tokenizer;
        _tokenizerUnsupported = unsupported;
        File = file;
        Config = config;
        Weights = weights;
        Pool = pool;
        Transformer = new Transformer(config, weights, pool);
    }

    /// <summary>Opens a GGUF file and binds its weights.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="GgufFormatException">The file is malformed or not a supported model (including a malformed vocabulary); the message names the file and the key or tensor.</exception>
    public static Model Load(string path, ModelOptions? options = null)
    {
        options ??= new ModelOptions();
        GgufFile file = GgufFile.Open(path);
        try
        {
            ModelConfig config = ModelConfig.FromGguf(file);
            ModelWeights weights = ModelWeights.Load(file, config);
            Tokenizer? tokenizer = null;
            NotSupportedException? unsupported = null;
            try
            {
                tokenizer = Tokenizer.FromGguf(file);
            }
            catch (NotSupportedException e)
            {
                unsupported = e;   // token ids still work; text in and out fails when asked for
            }
            return new Model(file, config, weights, new WorkerPool(options.Threads), tokenizer, unsupported);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The file the weights live in.</summary>
    public GgufFile File { get; }
    /// <summary>Hyper-parameters.</summary>
    public ModelConfig Config { get; }
    /// <summary>Weights.</summary>
    public ModelWeights Weights { get; }
    /// <summary>The worker pool all sessions of this model compute on.</summary>
    public WorkerPool Pool { get; }

    /// <summary>
    /// The tokenizer built from the file's vocabulary at load. A malformed vocabulary fails the
    /// load (as in llama.cpp); one that LongCtx does not implement fails here, on first use, so
    /// that generation from token ids still works.
    /// </summary>
    /// <exception cref="NotSupportedException">The file's tokenizer model or pre-tokenizer is not implemented.</exception>
    public Tokenizer Tokenizer => _tokenizer ?? throw new NotSupportedException(_tokenizerUnsupported!.Message, _tokenizerUnsupported);

    internal Transformer Transformer { get; }

    /// <summary>Stops the workers and unmaps the file.</summary>
    public void Dispose()
    {
        Pool.Dispose();
        File.Dispose();
    }
}
