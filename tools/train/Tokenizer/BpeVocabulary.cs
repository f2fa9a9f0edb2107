using System.Text.Json;
using LongCtx.Gguf;

namespace LongCtx.Train.Tokenizer;

/// <summary>
/// A byte-level BPE vocabulary as GGUF stores it (<c>tokenizer.ggml.model = gpt2</c>): the 256
/// byte tokens, the merged tokens, then the special tokens of the ChatML template; merges in
/// rank order.
/// </summary>
internal sealed record BpeVocabulary
{
    public const string EndOfText = "<|endoftext|>", ImStart = "<|im_start|>", ImEnd = "<|im_end|>";

    /// <summary>ChatML, which llama.cpp recognizes by its <c>&lt;|im_start|&gt;</c> marker.</summary>
    public const string ChatTemplate =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /// <summary>Token texts in byte-level form (specials verbatim).</summary>
    public required List<string> Tokens { get; init; }
    /// <summary>Merge rules "left right", highest priority first.</summary>
    public required List<string> Merges { get; init; }
    /// <summary>Number of special (control) tokens at the end of <see cref="Tokens"/>.</summary>
    public int SpecialCount { get; init; } = 3;

    public int Count => Tokens.Count;
    public int EndOfTextId => Tokens.Count - 3;
    public int ImStartId => Tokens.Count - 2;
    public int ImEndId => Tokens.Count - 1;

    /// <summary>Writes the tokenizer keys: model, pre, tokens, types, merges, BOS/EOS, chat template.</summary>
    public void AddTo(GgufWriter w)
    {
        var types = new int[Tokens.Count];
        Array.Fill(types, 1);                       // LLAMA_TOKEN_TYPE_NORMAL
        for (int i = Tokens.Count - SpecialCount; i < Tokens.Count; i++) types[i] = 3;   // CONTROL
        w.Add(GgufKeys.TokenizerModel, "gpt2")
         .Add(GgufKeys.TokenizerPre, PreTokenizer.GgufName)
         .Add(GgufKeys.TokenizerTokens, Tokens.ToArray())
         .Add(GgufKeys.TokenizerTokenTypes, types)
         .Add(GgufKeys.TokenizerMerges, Merges.ToArray())
         .Add(GgufKeys.TokenizerBos, (uint)EndOfTextId)
         .Add(GgufKeys.TokenizerEos, (uint)ImEndId)
         .Add(GgufKeys.TokenizerAddBos, false)
         .Add(GgufKeys.ChatTemplate, ChatTemplate);
    }

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json.Options));

    /// <exception cref="InvalidDataException">The file is not a vocabulary; the message names it.</exception>
    public static BpeVocabulary Load(string path) =>
        JsonSerializer.Deserialize<BpeVocabulary>(File.ReadAllText(path), Json.Options) ?? throw new InvalidDataException($"{path}: not a BPE vocabulary");
}
