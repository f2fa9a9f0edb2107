using System.Text;
using LongCtx.Gguf;
using LongCtx.Reference;
using LongCtx.Tokenization;

namespace LongCtx.Tests.Tokenization;

/// <summary>
/// Our tokenizer against llama.cpp's on the same GGUF (loaded vocab-only): ids from
/// llama_tokenize for every corpus text with each add_special / parse_special combination,
/// text from llama_detokenize, every token's piece from llama_token_to_piece, and the
/// vocabulary facts (special ids, add_bos/eos, attributes, end-of-generation set).
/// </summary>
[Collection("Tokenizer files")]
public sealed class TokenizerDifferentialTests(TokenizerFiles files)
{
    public static TheoryData<string> Vocabularies()
    {
        var data = new TheoryData<string>();
        foreach (string pre in TokenizerFiles.Cl100kPreTokenizers)
        {
            data.Add("cl100k-" + pre);
        }
        data.Add("spm");
        data.Add("spm-phi3");
        data.Add("synthetic");
        data.Add("tiny-llama");
        return data;
    }

    private (Tokenizer Ours, LlamaReference Llama) Load(string vocabulary) => (files.Ours(vocabulary), files.Llama(vocabulary));

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void IdsMatchLlamaTokenize(string vocabulary)
    {
        (Tokenizer ours, LlamaReference llama) = Load(vocabulary);
        {
            var mismatches = new List<string>();
            int compared = 0;
            foreach (string text in TokenizerCorpus.All)
            {
                foreach ((bool addSpecial, bool parseSpecial) in (ReadOnlySpan<(bool, bool)>)[(false, false), (true, false), (false, true), (true, true)])
                {
                    int[] expected = llama.Tokenize(text, addSpecial, parseSpecial);
                    int[] actual = ours.Encode(text, addSpecial, parseSpecial);
                    compared++;
                    if (!expected.AsSpan().SequenceEqual(actual))
                    {
                        mismatches.Add($"add={addSpecial} parse={parseSpecial} {Show(text)}\n  llama.cpp [{string.Join(' ', expected)}]\n  ours      [{string.Join(' ', actual)}]");
                    }
                }
            }
            Assert.True(mismatches.Count == 0, $"{vocabulary}: {mismatches.Count} of {compared} tokenizations differ:\n" + string.Join("\n", mismatches.Take(8)));
        }
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void DecodeMatchesLlamaDetokenize(string vocabulary)
    {
        (Tokenizer ours, LlamaReference llama) = Load(vocabulary);
        {
            var mismatches = new List<string>();
            foreach (string text in TokenizerCorpus.All)
            {
                int[] tokens = llama.Tokenize(text, addSpecial: true, parseSpecial: true);
                foreach ((bool remove, bool unparse) in (ReadOnlySpan<(bool, bool)>)[(false, false), (true, false), (false, true), (true, true)])
                {
                    string expected = llama.Detokenize(tokens, remove, unparse);
                    string actual = ours.Decode(tokens, remove, unparse);
                    if (expected != actual)
                    {
                        mismatches.Add($"remove={remove} unparse={unparse} {Show(text)}\n  llama.cpp {Show(expected)}\n  ours      {Show(actual)}");
                    }
                }
            }
            Assert.True(mismatches.Count == 0, $"{vocabulary}: {mismatches.Count} detokenizations differ:\n" + string.Join("\n", mismatches.Take(8)));
        }
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void VocabularyFactsMatch(string vocabulary)
    {
        (Tokenizer ours, LlamaReference llama) = Load(vocabulary);
        Assert.Equal(llama.VocabSize, ours.VocabSize);
        Assert.Equal(Nullable(llama.Bos), ours.Bos);
        Assert.Equal(Nullable(llama.Eos), ours.Eos);
        Assert.Equal(Nullable(llama.Pad), ours.Pad);
        Assert.Equal(llama.AddBos, ours.AddBos);
        Assert.Equal(llama.AddEos, ours.AddEos);
        Assert.Equal(Enumerable.Range(0, ours.VocabSize).Where(llama.IsEndOfGeneration), ours.EndOfGenerationTokens);
        Assert.Equal(ours.Model == "llama" ? 1 : 2, llama.VocabType);
    }

    [Theory]
    [InlineData("cl100k-llama-bpe")]
    [InlineData("cl100k-jina-v2-de")]
    [InlineData("spm")]
    [InlineData("spm-phi3")]
    [InlineData("synthetic")]
    [InlineData("tiny-llama")]
    public void PiecesAndVocabularyFactsMatch(string vocabulary)
    {
        (Tokenizer ours, LlamaReference llama) = Load(vocabulary);
        {
            Assert.Equal(llama.VocabSize, ours.VocabSize);
            Assert.Equal(Nullable(llama.Bos), ours.Bos);
            Assert.Equal(Nullable(llama.Eos), ours.Eos);
            // With several end-of-turn candidates llama.cpp's pick follows its hash map's order (see Vocabulary.FixAttributesByText).
            if (Vocabulary.EotTexts.Count(t => ours.FindToken(t) != null) <= 1)
            {
                Assert.Equal(Nullable(llama.Eot), ours.Eot);
            }
            Assert.Equal(Nullable(llama.Pad), ours.Pad);
            Assert.Equal(llama.AddBos, ours.AddBos);
            Assert.Equal(llama.AddEos, ours.AddEos);
            for (int id = 0; id < ours.VocabSize; id++)
            {
                Assert.True(llama.Attributes(id) == (int)ours.GetAttributes(id), $"token {id} '{llama.TokenText(id)}': attributes {llama.Attributes(id)} vs {(int)ours.GetAttributes(id)}");
                Assert.Equal(llama.TokenText(id), ours.GetTokenText(id));
                Assert.True(llama.IsEndOfGeneration(id) == ours.IsEndOfGeneration(id), $"token {id} '{llama.TokenText(id)}': end of generation {llama.IsEndOfGeneration(id)}");
                Assert.Equal(llama.IsControl(id), ours.IsControl(id));
                foreach (bool special in (ReadOnlySpan<bool>)[false, true])
                {
                    byte[] expected = llama.TokenToPieceBytes(id, special);
                    if (!expected.AsSpan().SequenceEqual(ours.TokenToBytes(id, special)))
                    {
                        Assert.Fail($"token {id} '{llama.TokenText(id)}' special={special}: piece [{Convert.ToHexString(expected)}] vs [{Convert.ToHexString(ours.TokenToBytes(id, special))}]");
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void PiecesOfTheTokensRebuildTheText(string vocabulary)
    {
        Tokenizer ours = files.Ours(vocabulary);
        foreach (string text in TokenizerCorpus.All)
        {
            int[] tokens = ours.Encode(text, addSpecial: false, parseSpecial: true);
            if (tokens.Any(t => (ours.GetAttributes(t) & (TokenAttributes.LeftStrip | TokenAttributes.RightStrip)) != 0))
            {
                continue;   // these special tokens eat the whitespace beside them, by design
            }
            var stream = new StreamingDetokenizer(ours, special: true);
            var sb = new StringBuilder();
            foreach (int t in tokens)
            {
                sb.Append(stream.Add(t));
            }
            sb.Append(stream.Flush());
            // SentencePiece writes a space before the text and before text that follows a special token.
            string expected = ours.AddSpacePrefix ? SpacePrefixed(ours, text) : text;
            Assert.Equal(expected, sb.ToString());
        }
    }

    [Theory]
    [InlineData("cl100k-qwen2")]
    [InlineData("cl100k-smollm")]
    [InlineData("cl100k-deepseek-llm")]
    [InlineData("spm")]
    public void DecodeInvertsEncode(string vocabulary)
    {
        // Vocabularies without clean_up_tokenization_spaces; for SentencePiece, texts without
        // special tokens (after one, llama.cpp adds a space that decoding keeps).
        Tokenizer ours = files.Ours(vocabulary);
        int checkedCount = 0;
        foreach (string text in TokenizerCorpus.All)
        {
            int[] tokens = ours.Encode(text, addSpecial: false, parseSpecial: false);
            if (ours.AddSpacePrefix && tokens.Any(t => (ours.GetAttributes(t) & (TokenAttributes.UserDefined | TokenAttributes.Control)) != 0))
            {
                continue;
            }
            Assert.Equal(text, ours.Decode(tokens));
            checkedCount++;
        }
        Assert.True(checkedCount > TokenizerCorpus.All.Count * 3 / 4);
    }

    /// <summary>What the SentencePiece pieces of <paramref name="text"/> concatenate to: a space before each stretch of text that starts the input or follows a special token.</summary>
    private static string SpacePrefixed(Tokenizer tokenizer, string text)
    {
        int[] tokens = tokenizer.Encode(text, addSpecial: false, parseSpecial: true);
        var sb = new StringBuilder();
        bool afterSpecial = true;
        int pos = 0;
        foreach (int t in tokens)
        {
            if ((tokenizer.GetAttributes(t) & (TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown)) != 0)
            {
                string special = tokenizer.GetTokenText(t);
                int at = text.IndexOf(special, pos, StringComparison.Ordinal);
                if (at > pos)
                {
                    sb.Append(afterSpecial ? " " : "").Append(text, pos, at - pos);
                }
                sb.Append(special);
                pos = at + special.Length;
                afterSpecial = true;
            }
        }
        if (pos < text.Length)
        {
            sb.Append(afterSpecial ? " " : "").Append(text, pos, text.Length - pos);
        }
        return sb.ToString();
    }

    [Fact]
    public void EncodingIsThreadSafe()
    {
        Tokenizer ours = files.Ours("cl100k-qwen2");
        int[][] expected = TokenizerCorpus.All.Select(t => ours.Encode(t)).ToArray();
        Tokenizer fresh;   // a new instance: its word cache starts empty and is filled concurrently
        using (GgufFile file = GgufFile.Open(files["cl100k-smollm"]))
        {
            fresh = Tokenizer.FromGguf(file);
        }
        int[][] smollm = new int[TokenizerCorpus.All.Count][];
        Parallel.For(0, TokenizerCorpus.All.Count * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            int k = i % TokenizerCorpus.All.Count;
            Assert.Equal(expected[k], ours.Encode(TokenizerCorpus.All[k]));
            int[] s = fresh.Encode(TokenizerCorpus.All[k]);
            smollm[k] = s;
        });
        Tokenizer reference = files.Ours("cl100k-smollm");
        for (int k = 0; k < smollm.Length; k++)
        {
            Assert.Equal(reference.Encode(TokenizerCorpus.All[k]), smollm[k]);
        }
    }

    [Fact]
    public void UnicodeFlagsMatchLlamaCppForEveryCodepoint()
    {
        var differences = new List<string>();
        for (int cp = 0; cp < UnicodeFlags.MaxCodepoint; cp++)
        {
            int expected = LlamaReference.UnicodeFlags(cp) & 0x1FF;   // categories and whitespace
            int actual = (int)UnicodeFlags.Of(cp);
            if (expected != actual && differences.Count < 20)
            {
                differences.Add($"U+{cp:X4}: llama.cpp 0x{expected:X3}, ours 0x{actual:X3}");
            }
        }
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    private static int? Nullable(int id) => id >= 0 ? id : null;

    private static string Show(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s.Length > 120 ? s[..120] : s)
        {
            sb.Append(c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ when char.IsControl(c) => $"\\u{(int)c:X4}", _ => c.ToString() });
        }
        return sb.Append('"').ToString();
    }
}
