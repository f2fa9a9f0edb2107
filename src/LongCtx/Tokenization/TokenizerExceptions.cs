namespace LongCtx.Tokenization;

/// <summary>Text handed to the tokenizer is not valid UTF-8 (or, for a .NET string, holds an unpaired surrogate).</summary>
public sealed class InvalidUtf8Exception : ArgumentException
{
    /// <summary>Creates the exception for the invalid sequence at <paramref name="offset"/>.</summary>
    public InvalidUtf8Exception(long offset, string unit = "byte")
        : base($"the text is not valid UTF-8: invalid sequence at {unit} offset {offset}") => Offset = offset;

    /// <summary>Where the first invalid sequence starts (bytes for UTF-8 input, chars for a string).</summary>
    public long Offset { get; }
}

/// <summary>A token looked up by its text is not in the vocabulary, or is not the kind of token asked for.</summary>
public sealed class UnknownTokenException : ArgumentException
{
    /// <summary>Creates the exception for <paramref name="text"/>.</summary>
    public UnknownTokenException(string text, string message) : base(message) => Text = text;

    /// <summary>The text that was looked up.</summary>
    public string Text { get; }
}
