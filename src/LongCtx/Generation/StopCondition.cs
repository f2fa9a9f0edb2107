using System.Text;

namespace LongCtx.Generation;

/// <summary>
/// Decides when generation ends and which text may be shown meanwhile: stop strings (matched on the
/// decoded text, even when split across tokens), end-of-generation token ids, and a token budget.
/// Text that could be the start of a stop string is held back until the next pieces settle it, so
/// a stop string is never printed, not even partly. It knows nothing of the tokenizer: the caller
/// passes each token's id with its text piece (UTF-8 bytes, or text already decoded).
/// </summary>
/// <remarks>
/// After the first calls the buffers have grown to fit and a call allocates nothing. The stop string
/// itself and anything after it are dropped, as llama.cpp's server does; the text of an
/// end-of-generation token is not shown.
/// </remarks>
public sealed class StopCondition
{
    private readonly string[] _stopStrings;
    private readonly int[] _stopTokens;
    private readonly int _longestStop;
    private readonly Decoder _utf8 = new UTF8Encoding(false, false).GetDecoder();
    private char[] _chars = new char[64];
    private char[] _work = new char[256];
    private char[] _held = new char[64];
    private int _heldLength;

    /// <summary>Creates the condition.</summary>
    /// <param name="stopStrings">Texts that end generation when they appear (compared exactly); null or empty for none.</param>
    /// <param name="stopTokens">End-of-generation token ids (the vocabulary's EOS, EOT, ...); null for none.</param>
    /// <param name="maxTokens">Most tokens to generate; generation stops after this many.</param>
    /// <exception cref="ArgumentException">A stop string is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxTokens"/> is below 1.</exception>
    public StopCondition(IEnumerable<string>? stopStrings = null, IEnumerable<int>? stopTokens = null, int maxTokens = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        _stopStrings = stopStrings?.ToArray() ?? [];
        foreach (string s in _stopStrings)
        {
            if (string.IsNullOrEmpty(s))
            {
                throw new ArgumentException("a stop string must not be null or empty", nameof(stopStrings));
            }
            _longestStop = Math.Max(_longestStop, s.Length);
        }
        _stopTokens = stopTokens?.Distinct().ToArray() ?? [];
        MaxTokens = maxTokens;
    }

    /// <summary>The token budget.</summary>
    public int MaxTokens { get; }

    /// <summary>Tokens seen so far.</summary>
    public int TokenCount { get; private set; }

    /// <summary>Why generation ended; <see cref="StopReason.None"/> while it goes on.</summary>
    public StopReason Reason { get; private set; }

    /// <summary>True once generation should end.</summary>
    public bool IsStopped => Reason != StopReason.None;

    /// <summary>The stop string that ended generation, or null.</summary>
    public string? MatchedStopString { get; private set; }

    /// <summary>
    /// Adds one generated token and returns the text that can be shown now (valid until the next
    /// call). When this token ends generation, the result also holds the text held back so far, up
    /// to (not including) a stop string.
    /// </summary>
    /// <param name="token">The token id.</param>
    /// <param name="piece">Its text as UTF-8 bytes; a character split across tokens is completed by the next piece.</param>
    /// <exception cref="InvalidOperationException">Generation already stopped.</exception>
    public ReadOnlySpan<char> Append(int token, ReadOnlySpan<byte> piece)
    {
        EnsureRunning();
        int needed = _utf8.GetCharCount(piece, flush: false);
        Grow(ref _chars, needed, 0);
        int n = _utf8.GetChars(piece, _chars, flush: false);
        return Append(token, _chars.AsSpan(0, n));
    }

    /// <summary>As <see cref="Append(int, ReadOnlySpan{byte})"/>, for a piece already decoded to text.</summary>
    /// <exception cref="InvalidOperationException">Generation already stopped.</exception>
    public ReadOnlySpan<char> Append(int token, ReadOnlySpan<char> piece)
    {
        EnsureRunning();
        TokenCount++;
        if (Array.IndexOf(_stopTokens, token) >= 0)
        {
            Reason = StopReason.EndOfGeneration;
            return TakeHeld(flushDecoder: true);
        }

        // Work text = held-back text + the new piece. A stop string can only end inside the new piece:
        // the held text was checked before.
        int length = _heldLength + piece.Length;
        Grow(ref _work, length, 0);
        _held.AsSpan(0, _heldLength).CopyTo(_work);
        piece.CopyTo(_work.AsSpan(_heldLength));
        ReadOnlySpan<char> text = _work.AsSpan(0, length);
        _heldLength = 0;

        int stopAt = -1;
        foreach (string stop in _stopStrings)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (stopAt < 0 || at < stopAt))
            {
                stopAt = at;
                MatchedStopString = stop;
            }
        }
        if (stopAt >= 0)
        {
            Reason = StopReason.StopString;
            return text[..stopAt];
        }

        if (TokenCount >= MaxTokens)
        {
            Reason = StopReason.MaxTokens;
            int tail = FlushDecoderInto(ref _work, length);
            return _work.AsSpan(0, length + tail);
        }

        int hold = PossibleStopStart(text);
        text[hold..].CopyTo(Held(length - hold));
        _heldLength = length - hold;
        return text[..hold];
    }

    /// <summary>Ends generation from outside (e.g. the context is full) and returns the text held back so far.</summary>
    public ReadOnlySpan<char> Finish()
    {
        if (Reason == StopReason.None)
        {
            Reason = StopReason.MaxTokens;
        }
        return TakeHeld(flushDecoder: true);
    }

    /// <summary>Starts over for a new generation with the same settings.</summary>
    public void Reset()
    {
        TokenCount = 0;
        Reason = StopReason.None;
        MatchedStopString = null;
        _heldLength = 0;
        _utf8.Reset();
    }

    /// <summary>Index of the earliest suffix of <paramref name="text"/> that is a proper prefix of some stop string (text.Length when none).</summary>
    private int PossibleStopStart(ReadOnlySpan<char> text)
    {
        int from = Math.Max(0, text.Length - (_longestStop - 1));
        for (int start = from; start < text.Length; start++)
        {
            ReadOnlySpan<char> suffix = text[start..];
            foreach (string stop in _stopStrings)
            {
                if (stop.Length > suffix.Length && stop.AsSpan().StartsWith(suffix, StringComparison.Ordinal))
                {
                    return start;
                }
            }
        }
        return text.Length;
    }

    private ReadOnlySpan<char> TakeHeld(bool flushDecoder)
    {
        int length = _heldLength;
        Grow(ref _work, length, 0);
        _held.AsSpan(0, length).CopyTo(_work);
        _heldLength = 0;
        int tail = flushDecoder ? FlushDecoderInto(ref _work, length) : 0;
        return _work.AsSpan(0, length + tail);
    }

    /// <summary>Ends an unfinished UTF-8 sequence (as U+FFFD) at <paramref name="at"/>; returns the chars written.</summary>
    private int FlushDecoderInto(ref char[] buffer, int at)
    {
        Grow(ref buffer, at + 4, at);
        return _utf8.GetChars(ReadOnlySpan<byte>.Empty, buffer.AsSpan(at), flush: true);
    }

    private Span<char> Held(int length)
    {
        Grow(ref _held, length, 0);
        return _held.AsSpan(0, length);
    }

    private static void Grow(ref char[] buffer, int length, int keep)
    {
        if (buffer.Length < length)
        {
            char[] bigger = new char[Math.Max(length, buffer.Length * 2)];
            buffer.AsSpan(0, keep).CopyTo(bigger);
            buffer = bigger;
        }
    }

    private void EnsureRunning()
    {
        if (Reason != StopReason.None)
        {
            throw new InvalidOperationException($"generation already stopped ({Reason}); call Reset to start again");
        }
    }
}
