namespace LongCtx.Train.Tokenizer;

/// <summary>
/// GPT-2's bytes_to_unicode: each byte as one printable character, so byte strings are valid
/// token texts. The printable Latin-1 bytes map to themselves, the others to U+0100 onwards.
/// </summary>
internal static class ByteLevel
{
    private static readonly char[] ToChar = Build();
    private static readonly Dictionary<char, byte> FromChar = Reverse(ToChar);

    public static char Char(byte b) => ToChar[b];

    /// <summary>The byte-level text of UTF-8 bytes.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>The bytes of a byte-level token text.</summary>
    /// <exception cref="ArgumentException">A character is not one of the 256 byte characters.</exception>
    public static void Decode(string text, List<byte> output)
    {
        foreach (char c in text)
        {
            if (!FromChar.TryGetValue(c, out byte b)) throw new ArgumentException($"'{c}' (U+{(int)c:X4}) is not a byte-level character");
            output.Add(b);
        }
    }

    private static char[] Build()
    {
        var map = new char[256];
        int extra = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)(256 + extra++);
        }
        return map;
    }

    private static Dictionary<char, byte> Reverse(char[] map)
    {
        var reverse = new Dictionary<char, byte>();
        for (int b = 0; b < 256; b++) reverse[map[b]] = (byte)b;
        return reverse;
    }
}
