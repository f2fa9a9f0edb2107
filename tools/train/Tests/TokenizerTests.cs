using LongCtx.Reference;
using LongCtx.Tensors;
using LongCtx.Train.Data;
using LongCtx.Train.Export;
using LongCtx.Train.Model;
using LongCtx.Train.Tokenizer;

namespace LongCtx.Train.Tests;

/// <summary>A vocabulary trained on Debian's license texts, exported, and read back by llama.cpp.</summary>
public sealed class TokenizerTests
{
    internal static readonly string[] Samples =
    [
        "",
        "Hello world",
        "The special magic number for quiet-river is: 7392810.",
        "  leading spaces, trailing spaces   \n\nand\ttabs\r\nCRLF lines\n",
        "I'm sure they'll say we've done it, DON'T they? It's 3.14159 or 2,718!",
        "Unicode: café naïve Ærøskøbing — “quotes” … 北京 東京 😀👍🏽 ∑ x² ≤ 10^6",
        "<|im_start|>user\nWhat is the key?<|im_end|>",
        "GNU GENERAL PUBLIC LICENSE\n    Version 3, 29 June 2007\n\n Copyright (C) 2007 Free Software Foundation, Inc. <https://fsf.org/>",
        "x=1;y=22;z=333;  path/to/file.txt --flag=value #comment @user $100 %50",
    ];

    internal static BpeVocabulary TrainSmall(int size)
    {
        IEnumerable<string> texts = Corpus.Read(["/usr/share/common-licenses"], 400_000).Select(d => d.Text);
        return BpeTrainer.Train(texts, size);
    }

    [Fact]
    public void VocabularyHasBytesMergesAndSpecials()
    {
        BpeVocabulary v = TrainSmall(700);
        Assert.Equal(700, v.Count);
        Assert.Equal(700 - 3 - 256, v.Merges.Count);
        Assert.Equal(BpeVocabulary.ImEnd, v.Tokens[v.ImEndId]);
        var encoder = new BpeEncoder(v);
        // Frequent English words of the licenses became single tokens.
        Assert.Single(encoder.Encode(" the"));
        Assert.Single(encoder.Encode(" software"));
        foreach (string s in Samples) Assert.Equal(s, encoder.Decode(encoder.Encode(s)));
        // Digits stay single tokens (Qwen2's pre-tokenizer).
        Assert.Equal(7, encoder.Encode("7392810").Count);
    }

    [Fact]
    public void LlamaCppTokenizesAsTheTrainerAndDetokenizesExactly()
    {
        BpeVocabulary v = TrainSmall(700);
        var encoder = new BpeEncoder(v);
        string dir = Directory.CreateTempSubdirectory("longctx-train-tok-").FullName;
        try
        {
            string path = Path.Combine(dir, "tok.gguf");
            using (var pool = new WorkerPool(1))
            {
                var model = new TrainModel(new ModelShape { Vocab = v.Count, Dim = 32, Layers = 1, Heads = 2, KvHeads = 1, Ffn = 32, ContextLength = 256 }, pool);
                model.Initialize(1);
                GgufExport.Write(path, model, v, GgmlType.F32, "tokenizer-test");
            }
            using var llama = LlamaReference.Load(path, new LlamaReferenceOptions { ContextSize = 256 });
            Assert.Equal(v.EndOfTextId, llama.Bos);
            Assert.Equal(v.ImEndId, llama.Eos);
            foreach (string s in Samples)
            {
                int[] theirs = llama.Tokenize(s, addSpecial: false, parseSpecial: false);
                Assert.Equal(encoder.Encode(s).ToArray(), theirs);
                Assert.All(theirs, id => Assert.InRange(id, 0, v.Count - 1));
                Assert.Equal(s, llama.Detokenize(theirs, removeSpecial: false, unparseSpecial: false));
            }
            // With special parsing on, the ChatML markers are single control tokens.
            int[] chat = llama.Tokenize("<|im_start|>user\nhi<|im_end|>", addSpecial: false, parseSpecial: true);
            Assert.Equal(v.ImStartId, chat[0]);
            Assert.Equal(v.ImEndId, chat[^1]);
            string prompt = llama.ApplyChatTemplate(null, [("user", "hi")], addAssistant: true);
            Assert.Equal("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", prompt);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
