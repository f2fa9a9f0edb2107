namespace LongCtx.Tokenization;

/// <summary>
/// SentencePiece-style BPE (llama.cpp's <c>llm_tokenizer_spm_session</c>): start from one symbol
/// per character, repeatedly merge the adjacent pair whose concatenation is the vocabulary token
/// with the highest score (the leftmost on ties), then emit each symbol's token, or its UTF-8
/// bytes as <c>&lt;0xXX&gt;</c> byte-fallback tokens when the symbol is not a token. A priority
/// queue and a linked list of symbols keep it O(n log n) over the whole fragment.
/// </summary>
internal sealed class SpmEncoder
{
    private readonly Vocabulary _vocab;
    private readonly int[] _byteTokens = new int[256];

    public SpmEncoder(Vocabulary vocab)
    {
        _vocab = vocab;
        for (int b = 0; b < 256; b++)
        {
            // llama_vocab::byte_to_token: "<0xXX>", else the byte itself as a one-character token.
            _byteTokens[b] = vocab.Ids.TryGetValue($"<0x{b:X2}>", out int id) ? id
                : b < 0x80 && vocab.Ids.TryGetValue(((char)b).ToString(), out id) ? id : -1;
        }
    }

    /// <summary>Appends the tokens of <paramref name="text"/> (spaces already written as ▁).</summary>
    /// <exception cref="InvalidOperationException">A character is not in the vocabulary and one of its bytes has no byte-fallback token.</exception>
    public void Encode(ReadOnlySpan<char> text, SpmScratch s, List<int> output)
    {
        if (text.IsEmpty)
        {
            return;
        }
        s.Reset(text.Length);
        int[] start = s.Start, length = s.Length, prev = s.Prev, next = s.Next;
        int n = 0;
        for (int i = 0; i < text.Length; n++)
        {
            int len = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            start[n] = i;
            length[n] = len;
            prev[n] = n - 1;
            next[n] = n + 1;
            i += len;
        }
        next[n - 1] = -1;

        var queue = s.Queue;
        for (int i = 0; i + 1 < n; i++)
        {
            TryAdd(text, s, i, i + 1);
        }
        while (queue.TryDequeue(out (int Left, int Right, int Size) b, out _))
        {
            if (length[b.Left] == 0 || length[b.Right] == 0 || length[b.Left] + length[b.Right] != b.Size)
            {
                continue;   // one side was merged since this pair was queued
            }
            length[b.Left] += length[b.Right];
            length[b.Right] = 0;
            int after = next[b.Right];
            next[b.Left] = after;
            if (after >= 0)
            {
                prev[after] = b.Left;
            }
            if (prev[b.Left] >= 0)
            {
                TryAdd(text, s, prev[b.Left], b.Left);
            }
            if (after >= 0)
            {
                TryAdd(text, s, b.Left, after);
            }
        }

        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i >= 0; i = next[i])
        {
            ReadOnlySpan<char> symbol = text.Slice(start[i], length[i]);
            if (_vocab.IdsBySpan.TryGetValue(symbol, out int id))
            {
                output.Add(id);
                continue;
            }
            // Only single characters can fail to be tokens (merges always make tokens).
            int count = System.Text.Encoding.UTF8.GetBytes(symbol, utf8);
            for (int k = 0; k < count; k++)
            {
                int token = _byteTokens[utf8[k]];
                if (token < 0)
                {
                    throw new InvalidOperationException(
                        $"{_vocab.FilePath}: '{symbol}' is not in the vocabulary and byte 0x{utf8[k]:X2} has no byte-fallback token <0x{utf8[k]:X2}>");
                }
                output.Add(token);
            }
        }
    }

    private void TryAdd(ReadOnlySpan<char> text, SpmScratch s, int left, int right)
    {
        int size = s.Length[left] + s.Length[right];
        if (_vocab.IdsBySpan.TryGetValue(text.Slice(s.Start[left], size), out int id))
        {
            s.Queue.Enqueue((left, right, size), (_vocab.Scores[id], left));
        }
    }
}

/// <summary>Reusable buffers of one encode call.</summary>
internal sealed class SpmScratch
{
    /// <summary>Highest score first, then the leftmost pair (llama.cpp's llm_bigram_spm comparator).</summary>
    private sealed class HighestScoreFirst : IComparer<(float Score, int Left)>
    {
        public int Compare((float Score, int Left) a, (float Score, int Left) b) =>
            a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Left.CompareTo(b.Left);
    }

    public int[] Start { get; private set; } = new int[64];
    public int[] Length { get; private set; } = new int[64];
    public int[] Prev { get; private set; } = new int[64];
    public int[] Next { get; private set; } = new int[64];
    public PriorityQueue<(int, int, int), (float, int)> Queue { get; } = new(new HighestScoreFirst());

    public void Reset(int n)
    {
        if (Start.Length < n)
        {
            int size = Math.Max(n, Start.Length * 2);
            Start = new int[size];
            Length = new int[size];
            Prev = new int[size];
            Next = new int[size];
        }
        Queue.Clear();
    }
}
