using System.IO.Compression;
using System.Reflection;
using System.Text;
using LongCtx.Gguf;
using LongCtx.Tokenization;

namespace LongCtx.Tests.Tokenization;

/// <summary>
/// Vocabulary-only GGUF files for tokenizer tests: a real large byte-level BPE vocabulary
/// (OpenAI's cl100k_base, from the Microsoft.ML.Tokenizers.Data.Cl100kBase package) converted to
/// GPT-2 byte-level tokens plus merges the way Hugging Face's tiktoken converter does it, and a
/// SentencePiece-style vocabulary trained here on a small text.
/// </summary>
internal static class VocabFiles
{
    /// <summary>Control tokens appended after the cl100k ranks (chat markers, BOS/EOS, FIM).</summary>
    public static readonly string[] Cl100kControl =
    [
        "<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|endofprompt|>",
        "<|begin_of_text|>", "<|end_of_text|>", "<|im_start|>", "<|im_end|>", "<|eot_id|>",
        "<|start_header_id|>", "<|end_header_id|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
    ];

    /// <summary>User-defined tokens: recognised in text even without parse_special. "&lt;|im_sep|&gt;" overlaps the chat markers' syntax.</summary>
    public static readonly string[] Cl100kUserDefined = ["<think>", "</think>", "<|im_sep|>", "<mask>"];

    private static readonly Lazy<(string[] Tokens, string[] Merges)> Cl100k = new(ConvertCl100k);

    /// <summary>Writes cl100k_base as a <c>gpt2</c> vocabulary with the given pre-tokenizer.</summary>
    public static void WriteCl100k(string path, string pre, Action<GgufWriter>? extra = null, Func<string, bool>? keepKey = null)
    {
        (string[] ranks, string[] merges) = Cl100k.Value;
        var tokens = new List<string>(ranks);
        var types = new List<int>(Enumerable.Repeat(1, ranks.Length));
        foreach (string t in Cl100kControl)
        {
            tokens.Add(t);
            types.Add(3);
        }
        foreach (string t in Cl100kUserDefined)
        {
            tokens.Add(t);
            types.Add(4);
        }
        int Id(string t) => tokens.IndexOf(t);
        var keys = new List<(string, object)>
        {
            (GgufKeys.Architecture, "llama"),
            (GgufKeys.Name, "cl100k-" + pre),
            (GgufKeys.TokenizerModel, "gpt2"),
            (GgufKeys.TokenizerPre, pre),
            (GgufKeys.TokenizerTokens, tokens.ToArray()),
            (GgufKeys.TokenizerTokenTypes, types.ToArray()),
            (GgufKeys.TokenizerMerges, merges),
            (GgufKeys.TokenizerBos, (uint)Id("<|begin_of_text|>")),
            (GgufKeys.TokenizerEos, (uint)Id("<|endoftext|>")),
        };
        var w = new GgufWriter();
        foreach ((string key, object value) in keys)
        {
            if (keepKey?.Invoke(key) ?? true)
            {
                w.Add(key, value);
            }
        }
        extra?.Invoke(w);
        w.Write(path);
    }

    /// <summary>
    /// cl100k_base ranks as byte-level token strings, and merges as Hugging Face's
    /// TikTokenConverter derives them: for each token in rank order, every split into two tokens,
    /// ordered by the ranks of the left then the right part.
    /// </summary>
    private static (string[] Tokens, string[] Merges) ConvertCl100k()
    {
        Assembly data = Assembly.Load("Microsoft.ML.Tokenizers.Data.Cl100kBase");
        using Stream stream = data.GetManifestResourceStream("cl100k_base.tiktoken.deflate")
            ?? throw new InvalidOperationException("cl100k_base.tiktoken.deflate not found in Microsoft.ML.Tokenizers.Data.Cl100kBase");
        using var reader = new StreamReader(new DeflateStream(stream, CompressionMode.Decompress));
        // Keys are the token bytes as Latin-1 strings (one char per byte).
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        var byRank = new List<string>();
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            // The package's file starts with "Capacity: N", then one base64 token per line in rank
            // order (the .tiktoken form "base64 rank" is read too).
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal))
            {
                continue;
            }
            int space = line.IndexOf(' ');
            byte[] bytes = Convert.FromBase64String(space < 0 ? line : line[..space]);
            int rank = space < 0 ? byRank.Count : int.Parse(line[(space + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            if (rank != byRank.Count)
            {
                throw new InvalidOperationException($"cl100k_base: rank {rank} out of order");
            }
            string key = Encoding.Latin1.GetString(bytes);
            ranks[key] = rank;
            byRank.Add(key);
        }
        string ToByteLevel(string latin1)
        {
            var sb = new StringBuilder(latin1.Length);
            foreach (char c in latin1)
            {
                sb.Append(ByteLevel.ToChar((byte)c));
            }
            return sb.ToString();
        }
        var merges = new List<string>();
        var local = new List<(int L, int R, string Text)>();
        foreach (string token in byRank)
        {
            local.Clear();
            for (int i = 1; i < token.Length; i++)
            {
                if (ranks.TryGetValue(token[..i], out int l) && ranks.TryGetValue(token[i..], out int r))
                {
                    local.Add((l, r, ToByteLevel(token[..i]) + " " + ToByteLevel(token[i..])));
                }
            }
            local.Sort((a, b) => a.L != b.L ? a.L.CompareTo(b.L) : a.R.CompareTo(b.R));
            foreach (var m in local)
            {
                merges.Add(m.Text);
            }
        }
        return (byRank.Select(ToByteLevel).ToArray(), merges.ToArray());
    }

    /// <summary>Control and user-defined tokens of the SentencePiece vocabulary (after &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;).</summary>
    public static readonly string[] SpmControl = ["<|im_start|>", "<|im_end|>"];
    public static readonly string[] SpmUserDefined = ["<mask>"];

    /// <summary>
    /// Writes a SentencePiece-style <c>llama</c> vocabulary: &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, the 256
    /// byte-fallback tokens &lt;0x00&gt;..&lt;0xFF&gt;, every character of <paramref name="trainingText"/>,
    /// then pieces from BPE merges over its words (spaces as ▁, scores falling with each merge and
    /// shared by pairs of merges, so that ties occur), then chat control tokens. Characters not in
    /// the training text fall back to bytes.
    /// </summary>
    /// <param name="path">Output file.</param>
    /// <param name="trainingText">Text the pieces are learned from.</param>
    /// <param name="merges">Number of BPE merges to learn.</param>
    /// <param name="name">general.name (llama.cpp sets strip attributes for names containing "phi-3").</param>
    /// <param name="moreControl">Control tokens added after the usual ones.</param>
    public static void WriteSentencePiece(string path, string trainingText, int merges = 600, string name = "spm-test", string[]? moreControl = null)
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var types = new List<int> { 2, 3, 3 };
        var scores = new List<float> { 0, 0, 0 };
        for (int b = 0; b < 256; b++)
        {
            tokens.Add($"<0x{b:X2}>");
            types.Add(6);
            scores.Add(0);
        }
        var seen = new HashSet<string>(tokens, StringComparer.Ordinal);
        // Words as SentencePiece sees them: each starts with ▁ (the space before it).
        var words = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string piece in trainingText.Replace('\n', ' ').Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string word = "\u2581" + piece;
            words[word] = words.GetValueOrDefault(word) + 1;
        }
        var chars = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string word in words.Keys)
        {
            foreach (System.Text.Rune r in word.EnumerateRunes())
            {
                chars.Add(r.ToString());
            }
        }
        foreach (string c in chars)
        {
            if (seen.Add(c))
            {
                tokens.Add(c);
                types.Add(1);
                scores.Add(-10000f);
            }
        }
        var split = words.ToDictionary(kv => kv.Key, kv => kv.Key.EnumerateRunes().Select(r => r.ToString()).ToList(), StringComparer.Ordinal);
        for (int m = 0; m < merges; m++)
        {
            var counts = new Dictionary<(string, string), int>();
            foreach ((string word, List<string> parts) in split)
            {
                for (int i = 0; i + 1 < parts.Count; i++)
                {
                    counts[(parts[i], parts[i + 1])] = counts.GetValueOrDefault((parts[i], parts[i + 1])) + words[word];
                }
            }
            if (counts.Count == 0)
            {
                break;
            }
            var best = counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key.Item1, StringComparer.Ordinal).ThenBy(kv => kv.Key.Item2, StringComparer.Ordinal).First().Key;
            string merged = best.Item1 + best.Item2;
            foreach (List<string> parts in split.Values)
            {
                for (int i = 0; i + 1 < parts.Count; i++)
                {
                    if (parts[i] == best.Item1 && parts[i + 1] == best.Item2)
                    {
                        parts[i] = merged;
                        parts.RemoveAt(i + 1);
                    }
                }
            }
            if (seen.Add(merged))
            {
                tokens.Add(merged);
                types.Add(1);
                scores.Add(-(m / 2));
            }
        }
        foreach (string t in SpmControl.Concat(moreControl ?? []))
        {
            tokens.Add(t);
            types.Add(3);
            scores.Add(0);
        }
        foreach (string t in SpmUserDefined)
        {
            tokens.Add(t);
            types.Add(4);
            scores.Add(0);
        }
        var keys = new List<(string, object)>
        {
            (GgufKeys.Architecture, "llama"),
            (GgufKeys.Name, name),
            (GgufKeys.TokenizerModel, "llama"),
            (GgufKeys.TokenizerTokens, tokens.ToArray()),
            (GgufKeys.TokenizerTokenTypes, types.ToArray()),
            (GgufKeys.TokenizerScores, scores.ToArray()),
        };
        var w = new GgufWriter();
        foreach ((string key, object value) in keys)
        {
            w.Add(key, value);
        }
        w.Write(path);
    }
}
