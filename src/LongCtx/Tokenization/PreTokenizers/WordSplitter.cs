using System.Text;

namespace LongCtx.Tokenization.PreTokenizers;

/// <summary>
/// Runs a pre-tokenizer's passes over one fragment of text and serves the resulting words as
/// UTF-8 bytes (llama.cpp's <c>unicode_regex_split</c>, without building a string per word).
/// One instance per encode call; buffers are reused across fragments.
/// </summary>
internal sealed class WordSplitter(PreTokenizer pre)
{
    private readonly CodepointText _text = new();
    private List<int> _lengths = [];
    private List<int> _next = [];
    private readonly List<int> _starts = [];
    private byte[] _utf8 = new byte[256];

    /// <summary>Number of words of the last split.</summary>
    public int Count => _lengths.Count;

    /// <summary>Splits <paramref name="text"/> into words.</summary>
    public void Split(ReadOnlySpan<char> text)
    {
        _text.Load(text);
        _lengths.Clear();
        if (_text.Length == 0)
        {
            _starts.Clear();
            return;
        }
        _lengths.Add(_text.Length);
        ReadOnlySpan<int> cps = _text.Codepoints;
        ReadOnlySpan<CodepointFlags> flags = _text.Flags;
        foreach (SplitRule rule in pre.Rules)
        {
            _next.Clear();
            int start = 0;
            foreach (int length in _lengths)
            {
                rule.Split(cps, flags, start, start + length, _next);
                start += length;
            }
            (_lengths, _next) = (_next, _lengths);
        }
        _starts.Clear();
        int at = 0;
        foreach (int length in _lengths)
        {
            _starts.Add(at);
            at += length;
        }
    }

    /// <summary>The UTF-8 bytes of word <paramref name="index"/> (valid until the next call).</summary>
    public ReadOnlySpan<byte> WordBytes(int index)
    {
        ReadOnlySpan<int> cps = _text.Codepoints.Slice(_starts[index], _lengths[index]);
        if (_utf8.Length < cps.Length * 4)
        {
            _utf8 = new byte[Math.Max(cps.Length * 4, _utf8.Length * 2)];
        }
        int n = 0;
        foreach (int cp in cps)
        {
            n += new Rune(cp).EncodeToUtf8(_utf8.AsSpan(n));
        }
        return _utf8.AsSpan(0, n);
    }
}
