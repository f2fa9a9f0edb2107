using System.Diagnostics;
using System.Text;
using LongCtx.Tokenization;
using Xunit.Abstractions;

namespace LongCtx.Tests.Tokenization;

/// <summary>
/// A 1 MB text (prose with code, numbers, whitespace runs, CJK, emoji and accents mixed in)
/// tokenized by both engines: the ids must be identical; the encode times are written to the
/// test output (never asserted: the machine is shared).
/// </summary>
[Collection("Tokenizer files")]
public sealed class LargeTextTests(TokenizerFiles files, ITestOutputHelper output)
{
    private static readonly Lazy<string> Text = new(() => Build(1_000_000));

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("cl100k-llama-bpe")]
    [InlineData("cl100k-qwen2")]
    [InlineData("cl100k-deepseek-llm")]
    [InlineData("spm")]
    public void OneMegabyteMatchesLlamaCpp(string vocabulary)
    {
        string text = Text.Value;
        int bytes = Encoding.UTF8.GetByteCount(text);
        Tokenizer ours = files.Ours(vocabulary);
        var llama = files.Llama(vocabulary);

        var sw = Stopwatch.StartNew();
        int[] actual = ours.Encode(text, addSpecial: false);
        double cold = sw.Elapsed.TotalSeconds;
        sw.Restart();
        ours.Encode(text, addSpecial: false);
        double warm = sw.Elapsed.TotalSeconds;
        sw.Restart();
        int[] expected = llama.Tokenize(text, addSpecial: false, parseSpecial: false);
        double reference = sw.Elapsed.TotalSeconds;

        output.WriteLine($"{vocabulary}: {bytes / 1e6:F2} MB -> {actual.Length} tokens; LongCtx first {cold * 1e3:F0} ms ({bytes / cold / 1e6:F2} MB/s), " +
            $"again {warm * 1e3:F0} ms ({bytes / warm / 1e6:F2} MB/s); llama.cpp {reference * 1e3:F0} ms ({bytes / reference / 1e6:F2} MB/s)");
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(expected.AsSpan().SequenceEqual(actual), "ids differ");
    }

    /// <summary>Seeded mixture: mostly sentences of common words, some code lines and non-English pieces.</summary>
    internal static string Build(int size, int seed = 1)
    {
        string[] words = ("the of and to in is was that for it with as his on be at by had are but from or have an they which one you " +
            "were her all she there would their we him been has when who will more no if out so said what up its about into than them can " +
            "only other new some could time these two may then do first any my now such like our over man me even most made after also did " +
            "many before must through back years where much your way well down should because each just those people how too little state " +
            "good very make world still own see men work long get here between both life being under never day same another know while last").Split(' ');
        string[] code = ["def f(x):\n    return x * 2\n", "for (int i = 0; i < n; ++i) {\n    sum += a[i];\n}\n", "const y = {\"k\": [1, 2, 3]};\n",
            "SELECT * FROM t WHERE id = 42;\n", "    if (a && b) { return -1; }\n"];
        string[] extra = ["日本語のテキスト。", "中文文本，", "😀👍🏽", "Café naïve résumé", "123456789", "3.14159", "   ", "\n\n", "\t",
            "Ελληνικά", "Москва", "don't", "I'll", "we're"];
        string[] ends = [". ", ", ", "! ", "? ", ".\n", ".\n\n"];
        var rng = new Random(seed);
        var sb = new StringBuilder(size + 200);
        while (sb.Length < size)
        {
            double r = rng.NextDouble();
            if (r < 0.80)
            {
                int n = rng.Next(5, 26);
                int start = sb.Length;
                for (int i = 0; i < n; i++)
                {
                    sb.Append(i == 0 ? "" : " ").Append(words[rng.Next(words.Length)]);
                }
                sb[start] = char.ToUpperInvariant(sb[start]);
                sb.Append(ends[rng.Next(ends.Length)]);
            }
            else if (r < 0.92)
            {
                sb.Append(code[rng.Next(code.Length)]);
            }
            else
            {
                sb.Append(extra[rng.Next(extra.Length)]).Append(' ');
            }
        }
        return sb.ToString();
    }
}
