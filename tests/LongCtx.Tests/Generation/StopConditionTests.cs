using System.Text;
using LongCtx.Generation;

namespace LongCtx.Tests.Generation;

/// <summary>Stop strings split across tokens, held-back text, end-of-generation tokens, the token budget, and UTF-8 pieces.</summary>
public sealed class StopConditionTests
{
    private const int Eos = 2;

    [Fact]
    public void StopStringSplitAcrossTokensIsNeverShown()
    {
        var stop = new StopCondition(["<|im_end|>"], [Eos]);
        Assert.Equal("Hello", Push(stop, "Hello"));
        Assert.Equal(" world", Push(stop, " wor" + "ld"));
        Assert.Equal("!", Push(stop, "!<"));       // "<" might open the stop string: held back
        Assert.Equal("", Push(stop, "|im"));       // still a prefix
        Assert.False(stop.IsStopped);
        Assert.Equal("", Push(stop, "_end|>tail")); // completed: nothing of it, nor what follows, is shown
        Assert.Equal(StopReason.StopString, stop.Reason);
        Assert.Equal("<|im_end|>", stop.MatchedStopString);
        Assert.Equal(5, stop.TokenCount);
    }

    [Fact]
    public void HeldTextIsReleasedWhenItTurnsOutNotToBeAStop()
    {
        var stop = new StopCondition(["STOP"]);
        Assert.Equal("", Push(stop, "ST"));
        Assert.Equal("", Push(stop, "O"));
        Assert.Equal("STOA", Push(stop, "A"));   // "STOA" cannot start "STOP"
        Assert.Equal("x", Push(stop, "xS"));
        Assert.Equal("SSS", Push(stop, "SSS"));  // "SSSS": only the last "S" can still start "STOP"
        Assert.False(stop.IsStopped);
    }

    [Fact]
    public void EarliestOfSeveralStopStringsWins()
    {
        var stop = new StopCondition(["\n\n", "User:", "abcd", "bc"]);
        Assert.Equal("a", Push(stop, "abc"));
        Assert.Equal("bc", stop.MatchedStopString);

        stop = new StopCondition(["User:", "\n\n"]);
        Assert.Equal("Answer.", Push(stop, "Answer.\n\nUser:"));
        Assert.Equal("\n\n", stop.MatchedStopString);
    }

    [Fact]
    public void EndOfGenerationTokenStopsAndReleasesHeldText()
    {
        var stop = new StopCondition(["</answer>"], [Eos, 7]);
        Assert.Equal("42 ", Push(stop, "42 </"));
        Assert.Equal("</", stop.Append(7, "<|eot_id|>".AsSpan()).ToString()); // the EOT's own text is not shown
        Assert.Equal(StopReason.EndOfGeneration, stop.Reason);
        Assert.Null(stop.MatchedStopString);
    }

    [Fact]
    public void MaxTokensStopsAfterTheLastTokenAndReleasesHeldText()
    {
        var stop = new StopCondition(["###"], maxTokens: 3);
        Assert.Equal("a", Push(stop, "a"));
        Assert.Equal("b", Push(stop, "b#"));
        Assert.False(stop.IsStopped);
        Assert.Equal("#c", Push(stop, "c"));
        Assert.Equal(StopReason.MaxTokens, stop.Reason);
        Assert.Equal(3, stop.TokenCount);
        // A stop string in the last token still wins over the budget.
        stop = new StopCondition(["###"], maxTokens: 1);
        Assert.Equal("x", Push(stop, "x###"));
        Assert.Equal(StopReason.StopString, stop.Reason);
    }

    [Fact]
    public void Utf8CharacterSplitAcrossTokensIsShownWhole()
    {
        var stop = new StopCondition(["ï"]);
        byte[] text = Encoding.UTF8.GetBytes("é🎉x");
        Assert.Equal("", stop.Append(10, text.AsSpan(0, 1)).ToString());   // half of é
        Assert.Equal("é", stop.Append(11, text.AsSpan(1, 2)).ToString());  // rest of é + first byte of 🎉
        Assert.Equal("", stop.Append(12, text.AsSpan(3, 2)).ToString());
        Assert.Equal("🎉x", stop.Append(13, text.AsSpan(5)).ToString());
        // A stop string made of a multi-byte character, arriving byte by byte.
        byte[] stopBytes = Encoding.UTF8.GetBytes("ï");
        Assert.Equal("", stop.Append(14, stopBytes.AsSpan(0, 1)).ToString());
        Assert.Equal("", stop.Append(15, stopBytes.AsSpan(1, 1)).ToString());
        Assert.Equal(StopReason.StopString, stop.Reason);
    }

    [Fact]
    public void UnfinishedUtf8AtTheEndBecomesAReplacementCharacter()
    {
        var stop = new StopCondition(stopTokens: [Eos]);
        Assert.Equal("", stop.Append(5, new byte[] { 0xE2, 0x82 }).ToString());
        Assert.Equal("\uFFFD", stop.Append(Eos, ReadOnlySpan<byte>.Empty).ToString());
    }

    [Fact]
    public void FinishAndResetAndMisuse()
    {
        var stop = new StopCondition(["END"]);
        Assert.Equal("", Push(stop, "EN"));
        Assert.Equal("EN", stop.Finish().ToString());
        Assert.True(stop.IsStopped);
        Assert.Throws<InvalidOperationException>(() => stop.Append(1, "x".AsSpan()));
        stop.Reset();
        Assert.Equal((StopReason.None, 0), (stop.Reason, stop.TokenCount));
        Assert.Equal("ok", Push(stop, "ok"));
        Assert.Throws<ArgumentException>(() => new StopCondition([""]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StopCondition(maxTokens: 0));
    }

    /// <summary>
    /// Random texts cut at random byte positions, with stop strings taken from the text. A stop
    /// string ends generation in the piece that completes it (the earliest-starting one if a piece
    /// completes several), and the shown text is exactly the text before it.
    /// </summary>
    [Fact]
    public void RandomSplitsShowExactlyTheTextBeforeTheStop()
    {
        var random = new Random(17);
        string[] alphabet = ["a", "b", "<", "|", ">", "\n", " ", "é", "🎉"];
        for (int trial = 0; trial < 3000; trial++)
        {
            string text = string.Concat(Enumerable.Range(0, random.Next(1, 30)).Select(_ => alphabet[random.Next(alphabet.Length)]));
            string[] stops = [.. Enumerable.Range(0, random.Next(0, 3)).Select(_ => RandomStop(text, random))];
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            var cuts = new List<int>();
            for (int at = 0; at < bytes.Length;)
            {
                at = Math.Min(bytes.Length, at + random.Next(1, 6));
                cuts.Add(at);
            }

            // Expected: the first piece whose visible text completes an occurrence decides.
            Decoder decoder = Encoding.UTF8.GetDecoder();
            int visible = 0;
            int previous = 0;
            string expected = text;
            foreach (int cut in cuts)
            {
                visible += decoder.GetCharCount(bytes.AsSpan(previous, cut - previous), flush: false);
                decoder.GetChars(bytes.AsSpan(previous, cut - previous), new char[16 + cut - previous], flush: false);
                previous = cut;
                int start = int.MaxValue;
                foreach (string s in stops)
                {
                    for (int i = text.IndexOf(s, StringComparison.Ordinal); i >= 0; i = text.IndexOf(s, i + 1, StringComparison.Ordinal))
                    {
                        if (i + s.Length <= visible)
                        {
                            start = Math.Min(start, i);
                        }
                    }
                }
                if (start != int.MaxValue)
                {
                    expected = text[..start];
                    break;
                }
            }

            var stop = new StopCondition(stops, [Eos]);
            var shown = new StringBuilder();
            previous = 0;
            foreach (int cut in cuts)
            {
                shown.Append(stop.Append(100, bytes.AsSpan(previous, cut - previous)));
                previous = cut;
                if (stop.IsStopped)
                {
                    break;
                }
            }
            if (!stop.IsStopped)
            {
                shown.Append(stop.Append(Eos, ReadOnlySpan<byte>.Empty));
            }
            Assert.True(expected == shown.ToString(), $"text {Escape(text)}, stops [{string.Join(", ", stops.Select(Escape))}]: shown {Escape(shown.ToString())}, expected {Escape(expected)}");
            Assert.Equal(expected.Length < text.Length ? StopReason.StopString : StopReason.EndOfGeneration, stop.Reason);
        }
    }

    [Fact]
    public void AppendAllocatesNothingOnceWarm()
    {
        var stop = new StopCondition(["<|im_end|>", "\n\nUser:"], [Eos]);
        byte[][] pieces = [.. new[] { "The", " answer", " is", " <", "|im", "_start", "|>", " \n", "\n", "Use", "d", " é", "🎉" }.Select(Encoding.UTF8.GetBytes)];
        for (int i = 0; i < 50; i++)
        {
            stop.Append(100, pieces[i % pieces.Length]);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        int shown = 0;
        for (int i = 0; i < 1000; i++)
        {
            shown += stop.Append(100, pieces[i % pieces.Length]).Length;
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(shown > 1000);
    }

    private static string Push(StopCondition stop, string piece) => stop.Append(100, piece.AsSpan()).ToString();

    private static string RandomStop(string text, Random random)
    {
        if (random.Next(3) == 0)
        {
            return "zz"; // never occurs
        }
        int start = random.Next(text.Length);
        if (char.IsLowSurrogate(text[start]))
        {
            start--;
        }
        int length = Math.Min(text.Length - start, random.Next(1, 5));
        if (char.IsHighSurrogate(text[start + length - 1]))
        {
            length = start + length < text.Length ? length + 1 : length - 1;
        }
        return length <= 0 ? "zz" : text.Substring(start, length);
    }

    private static string Escape(string s) => System.Text.Json.JsonSerializer.Serialize(s);
}
