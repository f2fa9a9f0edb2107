using System.Collections.Concurrent;
using LongCtx.Gguf;
using LongCtx.Models;
using LongCtx.Reference;
using LongCtx.Tensors;
using LongCtx.Tokenization;

namespace LongCtx.Tests.Tokenization;

/// <summary>
/// The tokenizer test files, each written once on first use and shared by every test class in
/// the "Tokenizer files" collection (the cl100k conversion takes a few seconds; its files are
/// several MB).
/// </summary>
public sealed class TokenizerFiles : IDisposable
{
    /// <summary>Pre-tokenizers exercised with the cl100k vocabulary.</summary>
    public static readonly string[] Cl100kPreTokenizers =
        ["llama-bpe", "qwen2", "qwen35", "gpt-2", "smollm", "deepseek-llm", "deepseek-coder", "falcon", "default", "jina-v2-de"];

    private readonly TempDir _dir = new();
    private readonly ConcurrentDictionary<string, Lazy<string>> _files = new();
    private readonly ConcurrentDictionary<string, Lazy<Tokenizer>> _tokenizers = new();
    private readonly ConcurrentDictionary<string, Lazy<LlamaReference>> _references = new();

    /// <summary>The path of the named vocabulary: "cl100k-PRE", "spm", "spm-phi3", "synthetic" (SyntheticModel's) or "tiny-llama" (TinyLlamaFile's).</summary>
    public string this[string name] => _files.GetOrAdd(name, n => new Lazy<string>(() => Write(n))).Value;

    /// <summary>Our tokenizer for the named vocabulary, built once.</summary>
    public Tokenizer Ours(string name) => _tokenizers.GetOrAdd(name, n => new Lazy<Tokenizer>(() =>
    {
        using GgufFile file = GgufFile.Open(this[n]);
        return Tokenizer.FromGguf(file);
    })).Value;

    /// <summary>llama.cpp with the named vocabulary loaded vocab-only, once (tests of the collection run one at a time).</summary>
    public LlamaReference Llama(string name) => _references.GetOrAdd(name, n => new Lazy<LlamaReference>(() =>
        LlamaReference.Load(this[n], new LlamaReferenceOptions { VocabOnly = true }))).Value;

    private string Write(string name)
    {
        string path = _dir.File(name + ".gguf");
        if (name.StartsWith("cl100k-", StringComparison.Ordinal))
        {
            VocabFiles.WriteCl100k(path, name["cl100k-".Length..]);
        }
        else if (name == "spm")
        {
            VocabFiles.WriteSentencePiece(path, TokenizerCorpus.SpmTrainingText);
        }
        else if (name == "spm-phi3")
        {
            // llama.cpp gives every special token of a model named phi-3 the right-strip attribute.
            VocabFiles.WriteSentencePiece(path, TokenizerCorpus.SpmTrainingText, name: "Phi-3 mini test", moreControl: ["<|user|>", "<|assistant|>", "<|end|>", "<|endoftext|>"]);
        }
        else if (name == "synthetic")
        {
            SyntheticModel.Write(path, new SyntheticShape { VocabSize = 600, EmbeddingLength = 32, HeadCount = 2, HeadCountKv = 1, FeedForwardLength = 32, BlockCount = 1 }, GgmlType.F32);
        }
        else if (name == "tiny-llama")
        {
            Reference.TinyLlamaFile.Write(path);
        }
        else
        {
            throw new ArgumentException($"no tokenizer test file '{name}'", nameof(name));
        }
        return path;
    }

    public void Dispose()
    {
        foreach (Lazy<LlamaReference> reference in _references.Values)
        {
            if (reference.IsValueCreated)
            {
                reference.Value.Dispose();
            }
        }
        _dir.Dispose();
    }
}

[CollectionDefinition("Tokenizer files")]
public sealed class TokenizerFilesCollection : ICollectionFixture<TokenizerFiles>;
