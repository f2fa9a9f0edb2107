using System.Text;

namespace LongCtx.Tokenization;

/// <summary>
/// Turns generated tokens into text as they arrive, emitting only whole UTF-8 characters: when a
/// character's bytes are spread over several tokens (byte-fallback tokens, or byte-level BPE
/// pieces that split an emoji), nothing of it is emitted until its last byte has come. The text
/// is the concatenation of the tokens' pieces (llama_token_to_piece), so it is exactly the text
/// that was encoded. Invalid sequences become U+FFFD. Not thread-safe; one per stream.
/// </summary>
public sealed class StreamingDetokenizer
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _special;
    private readonly Decoder _decoder = new UTF8Encoding(false, throwOnInvalidBytes: false).GetDecoder();
    private char[] _chars = new char[64];

    /// <summary>Creates a detokenizer for <paramref name="tokenizer"/>.</summary>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="special">Render control tokens as their text (e.g. <c>&lt;|im_end|&gt;</c>); false renders them as nothing.</param>
    public StreamingDetokenizer(Tokenizer tokenizer, bool special = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _special = special;
    }

    /// <summary>Adds one token and returns the text it completes (empty while a character is still incomplete).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A token id outside the vocabulary.</exception>
    public string Add(int token)
    {
        int n = Add(token, out ReadOnlySpan<char> text);
        return n == 0 ? string.Empty : new string(text);
    }

    /// <summary>Adds one token; <paramref name="text"/> is the text it completes, valid until the next call. No allocation in the steady state.</summary>
    /// <returns>The number of chars in <paramref name="text"/>.</returns>
    public int Add(int token, out ReadOnlySpan<char> text)
    {
        ReadOnlySpan<byte> bytes = _tokenizer.TokenToBytes(token, _special);
        int needed = _decoder.GetCharCount(bytes, flush: false);
        if (_chars.Length < needed)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }
        int n = _decoder.GetChars(bytes, _chars, flush: false);
        text = _chars.AsSpan(0, n);
        return n;
    }

    /// <summary>Ends the stream: returns what is left of an incomplete character (as U+FFFD) and starts over.</summary>
    public string Flush()
    {
        int n = _decoder.GetChars([], _chars, flush: true);
        _decoder.Reset();
        return new string(_chars, 0, n);
    }

    /// <summary>Forgets any incomplete character.</summary>
    public void Reset() => _decoder.Reset();
}
