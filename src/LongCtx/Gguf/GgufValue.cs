namespace LongCtx.Gguf;

/// <summary>The value types of GGUF metadata (gguf.h's gguf_type).</summary>
#pragma warning disable CS1591 // members are named exactly as the format's enum
public enum GgufValueType : uint
{
    UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
    String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
}
#pragma warning restore CS1591

/// <summary>
/// One metadata value. Scalars are boxed CLR values of the matching type (byte, sbyte, ushort,
/// short, uint, int, float, bool, string, ulong, long, double); arrays are typed CLR arrays
/// (<c>string[]</c>, <c>int[]</c>, <c>float[]</c>, ...), with <see cref="ElementType"/> set.
/// Arrays of arrays are kept as <c>GgufValue[]</c>.
/// </summary>
public sealed record GgufValue(GgufValueType Type, object Value, GgufValueType ElementType = GgufValueType.UInt8)
{
    /// <summary>Whether this is an array value.</summary>
    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>Number of elements of an array value (1 for a scalar).</summary>
    public int Count => Value is Array a ? a.Length : 1;

    /// <summary>A short, human-readable rendering (arrays show their type and length).</summary>
    public override string ToString() => Value switch
    {
        Array a => $"[{ElementType.ToString().ToLowerInvariant()} × {a.Length}]",
        string s => s.Length > 60 ? s[..57] + "..." : s,
        float f => f.ToString("G9", System.Globalization.CultureInfo.InvariantCulture),
        double d => d.ToString("G17", System.Globalization.CultureInfo.InvariantCulture),
        _ => Convert.ToString(Value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}

/// <summary>A GGUF file that cannot be read: the message names the file and the key, tensor or offset.</summary>
public sealed class GgufFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public GgufFormatException(string path, string message, Exception? inner = null)
        : base($"{path}: {message}", inner) => FilePath = path;

    /// <summary>The file that failed to read.</summary>
    public string FilePath { get; }
}
