using System.Text;
using LongCtx.Tensors;

namespace LongCtx.Gguf;

/// <summary>
/// Builds a GGUF v3 file: metadata in insertion order, then tensor infos, then the aligned data
/// section, as gguf.cpp writes it. Used by tests, the trainer and the quantizer; llama.cpp loads
/// what it writes.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<(string Key, GgufValue Value)> _metadata = [];
    private readonly List<(string Name, GgmlType Type, long[] Shape, ReadOnlyMemory<byte> Data)> _tensors = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Creates a writer whose data section is aligned to <paramref name="alignment"/> bytes.</summary>
    public GgufWriter(int alignment = GgufFile.DefaultAlignment)
    {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentException($"alignment must be a power of two, got {alignment}", nameof(alignment));
        }
        Alignment = alignment;
        if (alignment != GgufFile.DefaultAlignment)
        {
            Add(GgufKeys.Alignment, (uint)alignment);
        }
    }

    /// <summary>Alignment of tensor data.</summary>
    public int Alignment { get; }

    /// <summary>Adds a metadata value (scalars: byte, sbyte, ushort, short, uint, int, float, bool, string,
    /// ulong, long, double; arrays of those).</summary>
    /// <exception cref="ArgumentException">Duplicate key or unsupported CLR type.</exception>
    public GgufWriter Add(string key, object value)
    {
        if (!_keys.Add(key))
        {
            throw new ArgumentException($"metadata key '{key}' was already added", nameof(key));
        }
        _metadata.Add((key, ToValue(key, value)));
        return this;
    }

    /// <summary>Adds a tensor. <paramref name="shape"/> is in ggml order (ne0 first, the contiguous dimension).</summary>
    /// <exception cref="ArgumentException">Duplicate name, or data size does not match the shape.</exception>
    public GgufWriter AddTensor(string name, GgmlType type, long[] shape, ReadOnlyMemory<byte> data)
    {
        long expected = GgmlTypeInfo.RowSize(type, shape[0]);
        for (int d = 1; d < shape.Length; d++)
        {
            expected *= shape[d];
        }
        if (data.Length != expected)
        {
            throw new ArgumentException($"tensor '{name}' ({GgmlTypeInfo.Name(type)} [{string.Join(", ", shape)}]) needs {expected} bytes, got {data.Length}", nameof(data));
        }
        if (!_names.Add(name))
        {
            throw new ArgumentException($"tensor '{name}' was already added", nameof(name));
        }
        _tensors.Add((name, type, (long[])shape.Clone(), data));
        return this;
    }

    /// <summary>Quantizes <paramref name="values"/> to <paramref name="type"/> and adds the tensor.</summary>
    public GgufWriter AddTensor(string name, GgmlType type, long[] shape, ReadOnlySpan<float> values)
    {
        long rowElements = shape[0];
        long rows = values.Length / rowElements;
        long rowBytes = GgmlTypeInfo.RowSize(type, rowElements);
        var data = new byte[rowBytes * rows];
        for (long r = 0; r < rows; r++)
        {
            Quantize.Row(type, values.Slice((int)(r * rowElements), (int)rowElements), data.AsSpan((int)(r * rowBytes), (int)rowBytes));
        }
        return AddTensor(name, type, shape, data);
    }

    /// <summary>Writes the file.</summary>
    public void Write(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Write(stream);
    }

    /// <summary>Writes the file to a stream.</summary>
    public void Write(Stream stream)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(GgufFile.Magic);
        w.Write(3u);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            WriteValue(w, value);
        }
        long offset = 0;
        foreach (var (name, type, shape, data) in _tensors)
        {
            WriteString(w, name);
            w.Write((uint)shape.Length);
            foreach (long d in shape)
            {
                w.Write((ulong)d);
            }
            w.Write((uint)type);
            w.Write((ulong)offset);
            offset = AlignUp(offset + data.Length);
        }
        Pad(w, AlignUp(w.BaseStream.Position) - w.BaseStream.Position);
        foreach (var (_, _, _, data) in _tensors)
        {
            w.Write(data.Span);
            Pad(w, AlignUp(data.Length) - data.Length);
        }
    }

    private long AlignUp(long value) => (value + Alignment - 1) / Alignment * Alignment;

    private static void Pad(BinaryWriter w, long count)
    {
        for (long i = 0; i < count; i++)
        {
            w.Write((byte)0);
        }
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static GgufValue ToValue(string key, object value) => value switch
    {
        GgufValue v => v,
        byte => new(GgufValueType.UInt8, value),
        sbyte => new(GgufValueType.Int8, value),
        ushort => new(GgufValueType.UInt16, value),
        short => new(GgufValueType.Int16, value),
        uint => new(GgufValueType.UInt32, value),
        int => new(GgufValueType.Int32, value),
        float => new(GgufValueType.Float32, value),
        bool => new(GgufValueType.Bool, value),
        string => new(GgufValueType.String, value),
        ulong => new(GgufValueType.UInt64, value),
        long => new(GgufValueType.Int64, value),
        double => new(GgufValueType.Float64, value),
        Array a => new(GgufValueType.Array, a, ElementType(key, a.GetType().GetElementType()!)),
        _ => throw new ArgumentException($"metadata key '{key}': unsupported value type {value.GetType()}", nameof(value)),
    };

    private static GgufValueType ElementType(string key, Type t) =>
        t == typeof(byte) ? GgufValueType.UInt8 : t == typeof(sbyte) ? GgufValueType.Int8
        : t == typeof(ushort) ? GgufValueType.UInt16 : t == typeof(short) ? GgufValueType.Int16
        : t == typeof(uint) ? GgufValueType.UInt32 : t == typeof(int) ? GgufValueType.Int32
        : t == typeof(float) ? GgufValueType.Float32 : t == typeof(bool) ? GgufValueType.Bool
        : t == typeof(string) ? GgufValueType.String : t == typeof(ulong) ? GgufValueType.UInt64
        : t == typeof(long) ? GgufValueType.Int64 : t == typeof(double) ? GgufValueType.Float64
        : t == typeof(GgufValue) ? GgufValueType.Array
        : throw new ArgumentException($"metadata key '{key}': unsupported array element type {t}");

    private static void WriteValue(BinaryWriter w, GgufValue v)
    {
        switch (v.Value)
        {
            case byte x: w.Write(x); break;
            case sbyte x: w.Write(x); break;
            case ushort x: w.Write(x); break;
            case short x: w.Write(x); break;
            case uint x: w.Write(x); break;
            case int x: w.Write(x); break;
            case float x: w.Write(x); break;
            case bool x: w.Write((byte)(x ? 1 : 0)); break;
            case string x: WriteString(w, x); break;
            case ulong x: w.Write(x); break;
            case long x: w.Write(x); break;
            case double x: w.Write(x); break;
            case Array a:
                w.Write((uint)v.ElementType);
                w.Write((ulong)a.Length);
                foreach (object? e in a)
                {
                    WriteValue(w, e as GgufValue ?? ToValue("", e!));
                }
                break;
            default:
                throw new InvalidOperationException($"unsupported metadata value {v.Value.GetType()}");
        }
    }
}
