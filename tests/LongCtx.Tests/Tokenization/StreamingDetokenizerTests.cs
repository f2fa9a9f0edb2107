using LongCtx.Models;
using LongCtx.Tokenization;

namespace LongCtx.Tests.Tokenization;

/// <summary>Streaming text out: a character split across tokens is emitted whole, once, and never half.</summary>
[Collection("Tokenizer files")]
public sealed class StreamingDetokenizerTests(TokenizerFiles files)
{
    [Theory]
    [InlineData("spm", "Hi 😀 there")]                 // the emoji is four byte-fallback tokens
    [InlineData("cl100k-llama-bpe", "日本語 😀👍🏽")]   // byte-level pieces that cut characters
    [InlineData("cl100k-qwen2", "Ελληνικά 𠀀 e\u0301")]
    public void EmitsOnlyWholeCharacters(string vocabulary, string text)
    {
        Tokenizer tokenizer = files.Ours(vocabulary);
        int[] tokens = tokenizer.Encode(text, addSpecial: false);
        var stream = new StreamingDetokenizer(tokenizer);
        var chunks = new List<string>();
        int empty = 0;
        foreach (int t in tokens)
        {
            string chunk = stream.Add(t);
            Assert.DoesNotContain('\uFFFD', chunk);
            Assert.False(chunk.Length > 0 && char.IsHighSurrogate(chunk[^1]), "half a surrogate pair");
            empty += chunk.Length == 0 ? 1 : 0;
            chunks.Add(chunk);
        }
        Assert.Equal("", stream.Flush());
        Assert.True(empty > 0, "the test text should split a character across tokens");
        string expected = tokenizer.AddSpacePrefix ? " " + text : text;
        Assert.Equal(expected, string.Concat(chunks));
    }

    [Fact]
    public void FlushReportsAnIncompleteCharacterAndStartsOver()
    {
        Tokenizer tokenizer = files.Ours("spm");
        int[] emoji = tokenizer.Encode("😀", addSpecial: false);   // ▁ then four byte tokens
        var stream = new StreamingDetokenizer(tokenizer);
        foreach (int t in emoji[..^1])
        {
            stream.Add(t);
        }
        Assert.Equal("\uFFFD", stream.Flush());
        Assert.Equal(" ", stream.Add(emoji[0]));
    }

    [Fact]
    public void ControlTokensRenderOnlyWhenAsked()
    {
        Tokenizer tokenizer = files.Ours("cl100k-qwen2");
        int imEnd = tokenizer.GetSpecialToken("<|im_end|>");
        Assert.Equal("", new StreamingDetokenizer(tokenizer).Add(imEnd));
        Assert.Equal("<|im_end|>", new StreamingDetokenizer(tokenizer, special: true).Add(imEnd));
        Assert.True(tokenizer.IsEndOfGeneration(imEnd));
    }

    [Fact]
    public void AddingATokenDoesNotAllocate()
    {
        Tokenizer tokenizer = files.Ours("cl100k-llama-bpe");
        int[] tokens = tokenizer.Encode("The quick brown fox 日本語 😀 jumps over the lazy dog. " + new string('x', 40), addSpecial: false);
        var stream = new StreamingDetokenizer(tokenizer);
        int chars = 0;
        foreach (int t in tokens)
        {
            chars += stream.Add(t, out _);   // warm up the buffers
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 10; round++)
        {
            foreach (int t in tokens)
            {
                chars += stream.Add(t, out ReadOnlySpan<char> text);
                chars += text.Length;
            }
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(chars > 0);
    }

    [Fact]
    public void ModelExposesItsTokenizer()
    {
        using Model model = Model.Load(files["synthetic"]);
        Tokenizer fromFile = files.Ours("synthetic");
        Assert.Equal(fromFile.Encode("the quick brown fox"), model.Tokenizer.Encode("the quick brown fox"));
        Assert.Same(model.Tokenizer, model.Tokenizer);
        Assert.Equal(model.Config.VocabSize, model.Tokenizer.VocabSize);
    }
}
