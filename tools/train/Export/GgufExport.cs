using LongCtx.Gguf;
using LongCtx.Tensors;
using LongCtx.Train.Model;
using LongCtx.Train.Tokenizer;

namespace LongCtx.Train.Export;

/// <summary>
/// Writes the trained model as a GGUF of architecture <c>llama</c> that LongCtx and llama.cpp load:
/// the keys and tensor names of src/LongCtx/Models/SyntheticModel.cs, no <c>output.weight</c>
/// (tied: both engines then use token_embd for the logits), norms in F32.
/// No Q/K row permutation: convert_hf_to_gguf.py permutes HF checkpoints because HF rotates
/// halves (NeoX) while llama.cpp's <c>llama</c> RoPE rotates adjacent pairs; this trainer rotates
/// adjacent pairs itself, so its weights are already in llama.cpp's convention.
/// </summary>
internal static class GgufExport
{
    /// <param name="path">Output file.</param>
    /// <param name="model">Parameters and shape.</param>
    /// <param name="vocab">Tokenizer; its size must equal the model's vocabulary.</param>
    /// <param name="type">Type of the 2-D weights: F32, F16, BF16 or Q8_0.</param>
    /// <param name="name">general.name.</param>
    /// <exception cref="ArgumentException">The vocabulary size differs from the model's.</exception>
    public static void Write(string path, TrainModel model, BpeVocabulary vocab, GgmlType type, string name)
    {
        ModelShape s = model.Shape;
        if (vocab.Count != s.Vocab) throw new ArgumentException($"the vocabulary has {vocab.Count} tokens, the model {s.Vocab}", nameof(vocab));
        const string arch = "llama";
        string K(string key) => GgufKeys.ForArch(key, arch);
        var w = new GgufWriter();
        w.Add(GgufKeys.Architecture, arch)
         .Add(GgufKeys.Name, name)
         .Add(GgufKeys.FileType, (uint)FileType(type))
         .Add(K(GgufKeys.ContextLength), (uint)s.ContextLength)
         .Add(K(GgufKeys.EmbeddingLength), (uint)s.Dim)
         .Add(K(GgufKeys.BlockCount), (uint)s.Layers)
         .Add(K(GgufKeys.FeedForwardLength), (uint)s.Ffn)
         .Add(K(GgufKeys.HeadCount), (uint)s.Heads)
         .Add(K(GgufKeys.HeadCountKv), (uint)s.KvHeads)
         .Add(K(GgufKeys.RopeDimensionCount), (uint)s.HeadDim)
         .Add(K(GgufKeys.RopeFreqBase), s.RopeBase)
         .Add(K(GgufKeys.RmsEpsilon), s.RmsEps)
         .Add(K(GgufKeys.VocabSize), (uint)s.Vocab);
        vocab.AddTo(w);
        foreach (ParamTensor t in model.Layout.All)
        {
            float[] values = model.P(t).ToArray();
            if (t.Rows == 1) w.AddTensor(t.Name, GgmlType.F32, [t.Cols], values);
            else w.AddTensor(t.Name, type, [t.Cols, t.Rows], values);
        }
        w.Write(path);
    }

    /// <summary>llama.cpp's LLAMA_FTYPE for files whose matrices are all <paramref name="type"/>.</summary>
    private static int FileType(GgmlType type) => type switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.Q8_0 => 7,
        GgmlType.BF16 => 32,
        _ => throw new ArgumentException($"export type {GgmlTypeInfo.Name(type)} is not supported (F32, F16, BF16, Q8_0)", nameof(type)),
    };
}
