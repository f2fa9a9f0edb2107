using System.Text;

namespace LongCtx.Tests.Tokenization;

/// <summary>
/// Texts for differential tokenizer tests: hand-picked cases (prose, code, numbers, runs of
/// spaces and newlines, CJK, emoji, accents and combining marks, other scripts, Unicode spaces,
/// contractions, special-token syntax) plus seeded random mixtures of the same ingredients.
/// </summary>
internal static class TokenizerCorpus
{
    /// <summary>Random texts per run: 400, or LONGCTX_TOKENIZER_CASES for a deeper local check.</summary>
    public static readonly int RandomCount =
        int.TryParse(Environment.GetEnvironmentVariable("LONGCTX_TOKENIZER_CASES"), out int n) && n >= 0 ? n : 400;

    public static readonly string[] Fixed =
    [
        "",
        " ",
        "  ",
        "\n",
        "\n\n\n",
        "\t",
        "Hello world",
        " Hello world",
        "Hello  world",
        "Hello world ",
        "Hello world  ",
        "The quick brown fox jumps over the lazy dog.",
        "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness...",
        "I'm sure they'll say it's fine; we've done what we'd planned. DON'T PANIC, YOU'RE OK, I'LL GO.",
        "He said 'hello' and she said ' goodbye ' ... right ?",
        "  leading spaces and trailing spaces   ",
        "line one\nline two\n\nline four\r\nwindows line\rold mac",
        "    indented code\n\tand a tab\n \n  \n",
        "def fibonacci(n: int) -> int:\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
        "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; } // dot product\n#include <stdio.h>",
        "const x = {\"key\": [1, 2.5, -3e10], 'other': null};  /* comment */ x?.key ?? 0",
        "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name HAVING COUNT(*) > 1;",
        "<div class=\"main\"><p>Hello &amp; welcome!</p></div>",
        "https://example.com/path?query=1&b=two#frag user@example.org",
        "0 1 12 123 1234 12345 123456 1234567 12345678901234567890",
        "3.14159 2,718 1e-9 -42 +7 0x1F 0b1010 1_000_000 $19.99 €5 ¥1000 100%",
        "Call 555-0100 on 2024-06-01 at 14:30:59, or in Q3'24.",
        "１２３ ٣٤٥ ५६७ ½ ² Ⅻ",
        "日本語のテキストです。東京は大きい都市です。",
        "中文文本，包括标点符号。我们今天去公园散步吧！",
        "한국어 텍스트도 있습니다. 안녕하세요!",
        "混合 English 和中文 text 以及 123 数字",
        "Emoji: 😀😃😄 👍🏽 🇫🇷 👨‍👩‍👧‍👦 ❤️ 🤖 and ☕",
        "🎉🎉🎉party🎉🎉🎉",
        "Café naïve résumé façade coöperate Ångström Øresund Łódź Žižek São Paulo",
        "e\u0301 a\u0300 o\u0308 n\u0303 — combining marks after letters",
        "Ελληνικά κείμενα και Русский текст с буквами ёЁ",
        "العربية نص مع أرقام ١٢٣ והעברית גם",
        "हिन्दी पाठ और தமிழ் உரை และภาษาไทย",
        "Tiếng Việt có dấu: Xin chào thế giới",
        "non\u00A0breaking\u00A0spaces and\u3000ideographic\u3000space and\u2009thin\u2009space",
        "zero\u200Bwidth\u200Djoiner\uFEFFbom \u2028line sep\u2029para sep \u0085nel",
        "math: ∀x∈ℝ, x² ≥ 0 ⇒ √(x²) = |x| ∑ ∫ ∞ ≠ ≈",
        "arrows → ← ↑ ↓ and box ─│┌┐ and misc ★☆♠♣",
        "!!!???...,,,;;;:::---___===+++***&&&%%%$$$###@@@",
        "a!b?c.d,e;f:g-h_i=j+k*l&m%n$o#p@q",
        "'s 't 're 've 'm 'll 'd 'S 'T 'RE 'VE 'M 'LL 'D",
        "don't won't can't shouldn't y'all ma'am o'clock rock'n'roll",
        "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>",
        "text<|endoftext|>more text<|endoftext|>",
        "<think>reasoning</think> answer",
        "a <|im_sep|> b<|im_sep|>c",
        "<|im_start|><|im_start|><|im_end|><|im_end|>",
        "<|im_star|> <|im_end <im_end|> <| im_end |> <|unknown_token|>",
        "<s>[INST] hi [/INST]</s> <unk> <mask> <|im_start|>",
        "<|user|>\n  Hello  <|end|>\n<|assistant|>  \n Hi <|endoftext|>  end",
        "text   <mask>   more \t<mask>\n",
        "   \n   \n\t\t\n",
        "word\n\n\n\nword",
        "          ten spaces",
        "a                                                                b",
        "trailing newline\n",
        "trailing spaces and newline   \n",
        "MixedCASEWordsAndCamelCaseIdentifiers likeThisOne AND_SNAKE_CASE",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "ababababababababababababababababababababab",
        "================================================================",
        "```python\nprint('hi')\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |",
        "\u00AD soft hyphen \u061C arabic mark \u200E lrm",
        "\U0001D400\U0001D401 math bold, \U00010400 deseret, \U00020000 cjk ext b",
        "ꙮ ᚠᛇᚻ ⴰⵣⵓⵍ ሰላም 𓀀",
        "ﬁ ﬂ ﬀ ligatures and ＡＢＣ fullwidth ａｂｃ",
    ];

    // Ingredients for random texts, each a small piece of the kinds above.
    private static readonly string[] Pieces =
    [
        "the", " the", "The", " quick", "fox", " jumps", "'s", "'ll", "'RE", "n't", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n",
        "0", "7", "42", "123", "2024", "3.14", "-", "+", ".", ",", "!", "?", "...", ";", ":", "(", ")", "[", "]", "{", "}",
        "\"", "'", "`", "/", "\\", "_", "=", "==", "->", "<", ">", "#", "@", "$", "%", "&", "*", "|", "~", "^",
        "日本", "語", "中文", "的", "。", "，", "한국어", "こんにちは", "カタカナ",
        "😀", "👍🏽", "🇫🇷", "👨‍👩‍👧", "❤️", "🤖",
        "é", "e\u0301", "ñ", "ü", "ø", "Å", "ß", "Ł", "œ",
        "Ελλάδα", "Москва", "مرحبا", "שלום", "हिन्दी", "ไทย",
        "\u00A0", "\u3000", "\u2009", "\u200B", "\u2028", "\u0085", "\uFEFF",
        "∑", "√", "∞", "≠", "→", "★", "½", "²", "Ⅻ", "١٢", "５",
        "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>", "<|im_sep|>", "<|eot_id|>", "<s>", "</s>", "<mask>",
        "<|", "|>", "<|im_", "im_end", "<unk>", "<|user|>", "<|end|>", "<|assistant|>",
        "int", " main", "()", " {", " return", " 0", ";", "}", "def", " f", "(x)", ":", "    ",
        "\U0001D400", "\U00020000", "𓀀",
    ];

    /// <summary>Seeded random texts of 1 to 40 pieces.</summary>
    public static IEnumerable<string> Random(int seed = 20240601, int count = -1)
    {
        count = count < 0 ? RandomCount : count;
        var rng = new Random(seed);
        var sb = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            sb.Clear();
            int n = 1 + rng.Next(40);
            for (int k = 0; k < n; k++)
            {
                sb.Append(Pieces[rng.Next(Pieces.Length)]);
            }
            yield return sb.ToString();
        }
    }

    /// <summary>All texts: the fixed cases then the random ones.</summary>
    public static IReadOnlyList<string> All { get; } = [.. Fixed, .. Random()];

    /// <summary>What the SentencePiece test vocabulary is trained on.</summary>
    public const string SpmTrainingText =
        "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, " +
        "it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the season of Darkness. " +
        "The quick brown fox jumps over the lazy dog while the dog sleeps in the sun. I'm sure they'll say it's fine. " +
        "def fibonacci(n): return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2) " +
        "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; } return sum; " +
        "Café naïve résumé façade Ångström São Paulo. Numbers 0 1 2 3 4 5 6 7 8 9 10 100 1000 2024. " +
        "日本語のテキストです。中文文本。 Hello world! Hello again, world. The world is wide and the sea is deep.";
}
