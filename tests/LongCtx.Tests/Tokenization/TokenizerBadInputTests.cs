using LongCtx.Gguf;
using LongCtx.Models;
using LongCtx.Reference;
using LongCtx.Tensors;
using LongCtx.Tokenization;

namespace LongCtx.Tests.Tokenization;

/// <summary>Each kind of bad tokenizer input gets a named exception that says what and where.</summary>
public sealed class TokenizerBadInputTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A small byte-level vocabulary: the 256 byte tokens, the merges given, and two control tokens.</summary>
    private string SmallBpe(string name, string[]? merges, string? model = "gpt2", string? pre = "llama-bpe", Action<GgufWriter>? extra = null)
    {
        var tokens = new List<string>();
        for (int b = 0; b < 256; b++)
        {
            tokens.Add(ByteLevel.ToChar((byte)b).ToString());
        }
        foreach (string m in merges ?? [])
        {
            string joined = m.Replace(" ", "", StringComparison.Ordinal);
            if (!tokens.Contains(joined))
            {
                tokens.Add(joined);
            }
        }
        tokens.Add("<|begin_of_text|>");
        tokens.Add("<|eot_id|>");
        int[] types = tokens.Select((t, i) => i >= tokens.Count - 2 ? 3 : 1).ToArray();
        var w = new GgufWriter().Add(GgufKeys.Architecture, "llama");
        if (model != null)
        {
            w.Add(GgufKeys.TokenizerModel, model);
        }
        if (pre != null)
        {
            w.Add(GgufKeys.TokenizerPre, pre);
        }
        w.Add(GgufKeys.TokenizerTokens, tokens.ToArray()).Add(GgufKeys.TokenizerTokenTypes, types)
         .Add(GgufKeys.TokenizerBos, (uint)(tokens.Count - 2)).Add(GgufKeys.TokenizerEos, (uint)(tokens.Count - 1));
        if (merges != null)
        {
            w.Add(GgufKeys.TokenizerMerges, merges);
        }
        extra?.Invoke(w);
        string path = _dir.File(name + ".gguf");
        w.Write(path);
        return path;
    }

    private static Tokenizer Load(string path)
    {
        using GgufFile file = GgufFile.Open(path);
        return Tokenizer.FromGguf(file);
    }

    private static T Fails<T>(string path, params string[] mentions) where T : Exception
    {
        var ex = Assert.Throws<T>(() => Load(path));
        Assert.Contains(path, ex.Message);
        foreach (string m in mentions)
        {
            Assert.Contains(m, ex.Message);
        }
        return ex;
    }

    private static void LlamaCppRefuses(string path) =>
        Assert.Throws<InvalidOperationException>(() => LlamaReference.Load(path, new LlamaReferenceOptions { VocabOnly = true }).Dispose());

    [Theory]
    [InlineData(new byte[] { 0x61, 0x62, 0xC3, 0x28 }, 2)]              // lead byte followed by ASCII
    [InlineData(new byte[] { 0x68, 0x69, 0xE2, 0x82 }, 2)]              // truncated at the end
    [InlineData(new byte[] { 0xC0, 0xAF }, 0)]                          // overlong encoding of '/'
    [InlineData(new byte[] { 0x61, 0xED, 0xA0, 0x80 }, 1)]              // a UTF-16 surrogate encoded in UTF-8
    [InlineData(new byte[] { 0x61, 0x62, 0x63, 0x80, 0x64 }, 3)]        // a lone continuation byte
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 }, 0)]              // beyond U+10FFFF
    public void InvalidUtf8IsRejectedWithItsByteOffset(byte[] text, int offset)
    {
        Tokenizer tokenizer = Load(SmallBpe("utf8", ["Ġ t", "h e"]));
        var ex = Assert.Throws<InvalidUtf8Exception>(() => tokenizer.Encode(text));
        Assert.Equal(offset, ex.Offset);
        Assert.Contains($"byte offset {offset}", ex.Message);
    }

    [Fact]
    public void ValidUtf8BytesEncodeLikeTheString()
    {
        Tokenizer tokenizer = Load(SmallBpe("utf8ok", ["Ġ t", "h e"]));
        const string text = "the café ☕ 😀";
        Assert.Equal(tokenizer.Encode(text), tokenizer.Encode(System.Text.Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void UnpairedSurrogateInAStringIsRejectedWithItsCharOffset()
    {
        Tokenizer tokenizer = Load(SmallBpe("surrogate", ["Ġ t"]));
        var ex = Assert.Throws<InvalidUtf8Exception>(() => tokenizer.Encode("ab\uD800c"));
        Assert.Equal(2, ex.Offset);
        Assert.Contains("char offset 2", ex.Message);
        Assert.Throws<InvalidUtf8Exception>(() => tokenizer.Encode("x\uDC00"));
    }

    [Fact]
    public void UnknownSpecialTokenByName()
    {
        string path = SmallBpe("special", ["h e"]);
        Tokenizer tokenizer = Load(path);
        Assert.Equal(tokenizer.VocabSize - 1, tokenizer.GetSpecialToken("<|eot_id|>"));
        var missing = Assert.Throws<UnknownTokenException>(() => tokenizer.GetSpecialToken("<|im_end|>"));
        Assert.Equal("<|im_end|>", missing.Text);
        Assert.Contains("no special token '<|im_end|>'", missing.Message);
        Assert.Contains(path, missing.Message);
        var ordinary = Assert.Throws<UnknownTokenException>(() => tokenizer.GetSpecialToken("he"));
        Assert.Contains("ordinary token", ordinary.Message);
        Assert.Null(tokenizer.FindToken("<|im_end|>"));
        // Written in text, an unknown marker is just text, as in llama.cpp.
        Assert.DoesNotContain(tokenizer.VocabSize - 1, tokenizer.Encode("<|im_end|>", parseSpecial: true));
    }

    [Fact]
    public void GptVocabularyWithoutMergesIsRefused()
    {
        string path = SmallBpe("no-merges", merges: null);
        Fails<GgufFormatException>(path, GgufKeys.TokenizerMerges, "missing");
        LlamaCppRefuses(path);
    }

    [Fact]
    public void MergeNamingAnUnknownTokenIsRefused()
    {
        string path = SmallBpe("bad-merge", ["h e", "he llo"], extra: null);
        // "he llo" adds "hello" as a token, but "llo" is not one.
        Fails<GgufFormatException>(path, GgufKeys.TokenizerMerges, "entry 1", "'llo'", "not a token");
    }

    [Fact]
    public void MalformedMergeIsRefused()
    {
        string path = SmallBpe("malformed-merge", ["h e", "hello"]);
        Fails<GgufFormatException>(path, GgufKeys.TokenizerMerges, "entry 1", "\"hello\"");
    }

    [Fact]
    public void MissingTokenizerModelIsRefused()
    {
        string path = SmallBpe("no-model", ["h e"], model: null);
        Fails<GgufFormatException>(path, GgufKeys.TokenizerModel, "missing");
        LlamaCppRefuses(path);
    }

    [Fact]
    public void UnknownTokenizerModelIsRefused()
    {
        string path = SmallBpe("unknown-model", ["h e"], model: "wordpiece-v9");
        Fails<GgufFormatException>(path, "unknown tokenizer model 'wordpiece-v9'", GgufKeys.TokenizerModel);
        LlamaCppRefuses(path);
    }

    [Fact]
    public void TokenizerModelLlamaCppKnowsButWeDoNotIsNotSupported()
    {
        string path = SmallBpe("bert", ["h e"], model: "bert");
        Fails<NotSupportedException>(path, "'bert'", GgufKeys.TokenizerModel);
    }

    [Fact]
    public void UnknownPreTokenizerIsRefused()
    {
        string path = SmallBpe("unknown-pre", ["h e"], pre: "my-own-regex");
        Fails<GgufFormatException>(path, "unknown pre-tokenizer type 'my-own-regex'", GgufKeys.TokenizerPre);
        LlamaCppRefuses(path);
    }

    [Fact]
    public void PreTokenizerLlamaCppKnowsButWeDoNotIsNotSupported()
    {
        string path = SmallBpe("gpt-4o", ["h e"], pre: "gpt-4o");
        Fails<NotSupportedException>(path, "'gpt-4o'", GgufKeys.TokenizerPre);
    }

    [Fact]
    public void MissingPreTokenizerUsesDefaultAsLlamaCppDoes()
    {
        Tokenizer tokenizer = Load(SmallBpe("no-pre", ["h e"], pre: null));
        Assert.Equal("default", tokenizer.PreTokenizer);
    }

    [Fact]
    public void MissingTokenListIsRefused()
    {
        string path = _dir.File("no-tokens.gguf");
        new GgufWriter().Add(GgufKeys.Architecture, "llama").Add(GgufKeys.TokenizerModel, "gpt2").Add(GgufKeys.TokenizerMerges, new[] { "a b" }).Write(path);
        Fails<GgufFormatException>(path, GgufKeys.TokenizerTokens);
    }

    [Fact]
    public void TokenIdsOutsideTheVocabularyAreRejected()
    {
        Tokenizer tokenizer = Load(SmallBpe("ids", ["h e"]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([1, tokenizer.VocabSize]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.TokenToBytes(-1).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreamingDetokenizer(tokenizer).Add(tokenizer.VocabSize + 5));
        Assert.False(tokenizer.IsEndOfGeneration(-3));
    }

    [Fact]
    public void SentencePieceWithoutByteTokensNamesTheByte()
    {
        string path = _dir.File("spm-no-bytes.gguf");
        new GgufWriter().Add(GgufKeys.Architecture, "llama").Add(GgufKeys.TokenizerModel, "llama")
            .Add(GgufKeys.TokenizerTokens, new[] { "<unk>", "<s>", "</s>", "\u2581", "a", "\u2581a" })
            .Add(GgufKeys.TokenizerTokenTypes, new[] { 2, 3, 3, 1, 1, 1 })
            .Add(GgufKeys.TokenizerScores, new[] { 0f, 0f, 0f, -1f, -1f, -2f })
            .Write(path);
        Tokenizer tokenizer = Load(path);
        Assert.Equal([1, 5], tokenizer.Encode("a"));
        var ex = Assert.Throws<InvalidOperationException>(() => tokenizer.Encode("aé"));
        Assert.Contains("0xC3", ex.Message);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void ModelWithAnUnsupportedTokenizerStillLoadsForTokenIds()
    {
        string path = _dir.File("model-gpt4o.gguf");
        string good = _dir.File("model.gguf");
        SyntheticModel.Write(good, new SyntheticShape { VocabSize = 300, EmbeddingLength = 32, HeadCount = 2, HeadCountKv = 1, FeedForwardLength = 32, BlockCount = 1 }, GgmlType.F32);
        Rewrite(good, path, key => key != GgufKeys.TokenizerPre, w => w.Add(GgufKeys.TokenizerPre, "gpt-4o"));
        using Model model = Model.Load(path);
        var ex = Assert.Throws<NotSupportedException>(() => model.Tokenizer);
        Assert.Contains("gpt-4o", ex.Message);

        string broken = _dir.File("model-no-merges.gguf");
        Rewrite(good, broken, key => key != GgufKeys.TokenizerMerges);
        var bad = Assert.Throws<GgufFormatException>(() => Model.Load(broken).Dispose());
        Assert.Contains(GgufKeys.TokenizerMerges, bad.Message);
    }

    private static void Rewrite(string source, string target, Func<string, bool> keepKey, Action<GgufWriter>? extra = null)
    {
        using GgufFile src = GgufFile.Open(source);
        var w = new GgufWriter();
        foreach ((string key, GgufValue value) in src.Metadata)
        {
            if (keepKey(key))
            {
                w.Add(key, value);
            }
        }
        extra?.Invoke(w);
        foreach (GgufTensorInfo t in src.Tensors)
        {
            w.AddTensor(t.Name, t.Type, t.Shape, src.TensorBytes(t).ToArray());
        }
        w.Write(target);
    }
}
