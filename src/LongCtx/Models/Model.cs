using LongCtx.Gguf;
using LongCtx.Tensors;
using LongCtx.Tokenization;

namespace LongCtx.Models;

/// <summary>Options for loading a model.</summary>
public sealed record ModelOptions
{
    /// <summary>
    /// Worker threads for the matrix products and attention; 0 = <see cref="PhysicalCores"/>
    /// (a second hyper-thread per core only competes for the same memory bandwidth and vector units).
    /// </summary>
    public int Threads { get; init; }

    /// <summary>
    /// Physical cores this process may run on: distinct (package, core) pairs of the online CPUs
    /// in Linux's /sys topology, at most <see cref="Environment.ProcessorCount"/>; elsewhere the logical core count.
    /// </summary>
    public static int PhysicalCores { get; } = CountPhysicalCores();

    private static int CountPhysicalCores()
    {
        int logical = Environment.ProcessorCount;
        try
        {
            const string root = "/sys/devices/system/cpu";
            if (!Directory.Exists(root))
            {
                return logical;
            }
            var cores = new HashSet<(string, string)>();
            foreach (string dir in Directory.EnumerateDirectories(root, "cpu*"))
            {
                string name = Path.GetFileName(dir);
                if (name.Length <= 3 || !char.IsAsciiDigit(name[3]))
                {
                    continue;
                }
                string online = Path.Combine(dir, "online");
                if (File.Exists(online) && File.ReadAllText(online).Trim() == "0")
                {
                    continue;
                }
                string core = Path.Combine(dir, "topology", "core_id"), package = Path.Combine(dir, "topology", "physical_package_id");
                if (File.Exists(core) && File.Exists(package))
                {
                    cores.Add((File.ReadAllText(package).Trim(), File.ReadAllText(core).Trim()));
                }
            }
            return cores.Count == 0 ? logical : Math.Min(cores.Count, logical);
        }
        catch (IOException)
        {
            return logical;
        }
        catch (UnauthorizedAccessException)
        {
            return logical;
        }
    }
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
            return new Model(file, config, weights, new WorkerPool(options.Threads > 0 ? options.Threads : ModelOptions.PhysicalCores), tokenizer, unsupported);
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
