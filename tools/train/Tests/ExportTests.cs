using LongCtx.Generation;
using LongCtx.KvCache;
using LongCtx.Reference;
using LongCtx.Tensors;
using LongCtx.Train.Export;
using LongCtx.Train.Model;
using LongCtx.Train.Tokenizer;
using Xunit.Abstractions;

namespace LongCtx.Train.Tests;

/// <summary>
/// The exported GGUF computes the trainer's function: the trainer's own logits equal LongCtx's and
/// llama.cpp's on the same tokens (cosine ≥ 0.9999 at every position, F32 weights and KV cache).
/// </summary>
public sealed class ExportTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(GgmlType.F32, 0.9999)]
    [InlineData(GgmlType.F16, 0.9999)]
    public void TrainerLongCtxAndLlamaCppAgree(GgmlType type, double threshold)
    {
        BpeVocabulary vocab = TokenizerTests.TrainSmall(700);
        var shape = new ModelShape { Vocab = vocab.Count, Dim = 64, Layers = 2, Heads = 4, KvHeads = 2, Ffn = 96, RopeBase = 500000f, ContextLength = 512 };
        int[] tokens = new BpeEncoder(vocab).Encode(string.Concat(TokenizerTests.Samples)).ToArray()[..120];
        int t = tokens.Length;
        string dir = Directory.CreateTempSubdirectory("longctx-train-export-").FullName;
        try
        {
            string path = Path.Combine(dir, "model.gguf");
            var ours = new float[t * shape.Vocab];
            using (var pool = new WorkerPool(2))
            {
                TrainModel model = ModelGradientTests.TinyModel(pool, shape);
                model.Logits(tokens, 1, t, ours);
                GgufExport.Write(path, model, vocab, type, "export-test");
            }

            using LongCtx.Models.Model engine = LongCtx.Models.Model.Load(path, new LongCtx.Models.ModelOptions { Threads = 2 });
            Assert.Equal(shape.Vocab, engine.Config.VocabSize);
            var session = new Session(engine, new SessionOptions { ContextSize = 256, KvCacheType = KvCacheType.F32 });
            using var llama = LlamaReference.Load(path, new LlamaReferenceOptions { ContextSize = 256, KvCacheType = LlamaKvCacheType.F32 });
            float[][] theirs = llama.PrefillAllLogits(tokens);

            double minEngine = 1, minLlama = 1;
            for (int i = 0; i < t; i++)
            {
                ReadOnlySpan<float> row = ours.AsSpan(i * shape.Vocab, shape.Vocab);
                float[] engineRow = (i == 0 ? session.Prefill(tokens.AsSpan(0, 1)) : session.Decode(tokens[i])).ToArray();
                minEngine = Math.Min(minEngine, Cosine(row, engineRow));
                minLlama = Math.Min(minLlama, Cosine(row, theirs[i]));
            }
            output.WriteLine($"{type}: min cosine vs LongCtx {minEngine:F7}, vs llama.cpp {minLlama:F7} over {t} positions");
            Assert.True(minEngine >= threshold, $"trainer vs LongCtx: min cosine {minEngine:F7}");
            Assert.True(minLlama >= threshold, $"trainer vs llama.cpp: min cosine {minLlama:F7}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void VocabularyOfAnotherSizeIsRejected()
    {
        using var pool = new WorkerPool(1);
        var model = new TrainModel(new ModelShape { Vocab = 300, Dim = 32, Layers = 1, Heads = 2, KvHeads = 1, Ffn = 32 }, pool);
        BpeVocabulary v = TokenizerTests.TrainSmall(400);
        var e = Assert.Throws<ArgumentException>(() => GgufExport.Write("/nonexistent/x.gguf", model, v, GgmlType.F32, "x"));
        Assert.Contains("400", e.Message, StringComparison.Ordinal);
    }

    internal static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }
}
