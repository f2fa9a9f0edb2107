using System.IO.MemoryMappedFiles;
using System.Text;
using LongCtx.Tensors;

namespace LongCtx.Gguf;

/// <summary>Where a tensor lives in a GGUF file and what it holds.</summary>
/// <param name="Name">Tensor name, e.g. <c>blk.0.attn_q.weight</c>.</param>
/// <param name="Type">Element type.</param>
/// <param name="Shape">Dimensions in ggml order: <c>Shape[0]</c> (ne0) is the contiguous one.</param>
/// <param name="Offset">Byte offset from the start of the file.</param>
/// <param name="ByteSize">Bytes of data.</param>
public sealed record GgufTensorInfo(string Name, GgmlType Type, long[] Shape, long Offset, long ByteSize)
{
    /// <summary>Number of elements.</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Shape)
            {
                n *= d;
            }
            return n;
        }
    }

    /// <summary>The shape as ggml prints it, e.g. <c>[896, 151936]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// A GGUF (v2 or v3) file opened read-only over a memory map: metadata parsed once, tensor data
/// served as zero-copy views into the mapping. Every malformed input raises a
/// <see cref="GgufFormatException"/> naming the file and the key, tensor or offset.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    /// <summary>"GGUF" read as a little-endian uint32.</summary>
    public const uint Magic = 0x46554747;
    /// <summary>Default alignment of the data section (gguf.h).</summary>
    public const int DefaultAlignment = 32;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly Dictionary<string, GgufValue> _metadata;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName;
    private bool _disposed;

    private GgufFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePtr, long length)
    {
        FilePath = path;
        _map = map;
        _view = view;
        _base = basePtr;
        FileSize = length;
        var reader = new Reader(path, basePtr, length);
        try
        {
            uint magic = reader.U32("magic");
            if (magic != Magic)
            {
                throw new GgufFormatException(path, $"not a GGUF file: magic is 0x{magic:X8}, expected 0x{Magic:X8} (\"GGUF\")");
            }
            Version = reader.U32("version");
            if (Version is not (2 or 3))
            {
                throw new GgufFormatException(path, $"unsupported GGUF version {Version}; LongCtx reads versions 2 and 3");
            }
            long tensorCount = reader.Count("tensor count", 1L << 24);
            long kvCount = reader.Count("metadata count", 1L << 24);

            _metadata = new Dictionary<string, GgufValue>((int)kvCount, StringComparer.Ordinal);
            for (long i = 0; i < kvCount; i++)
            {
                string key = reader.String($"metadata key #{i}");
                var type = (GgufValueType)reader.U32($"type of key '{key}'");
                if (!_metadata.TryAdd(key, reader.Value(type, key, depth: 0)))
                {
                    throw new GgufFormatException(path, $"duplicate metadata key '{key}'");
                }
            }

            Alignment = DefaultAlignment;
            if (_metadata.TryGetValue(GgufKeys.Alignment, out GgufValue? align))
            {
                if (align.Value is not uint a || a == 0 || (a & (a - 1)) != 0)
                {
                    throw new GgufFormatException(path, $"'{GgufKeys.Alignment}' must be a power-of-two uint32, got {align}");
                }
                Alignment = (int)a;
            }

            var infos = new (string Name, GgmlType Type, long[] Shape, long RelOffset)[tensorCount];
            for (long i = 0; i < tensorCount; i++)
            {
                string name = reader.String($"name of tensor #{i}");
                uint nDims = reader.U32($"dimension count of tensor '{name}'");
                if (nDims is 0 or > 4)
                {
                    throw new GgufFormatException(path, $"tensor '{name}' has {nDims} dimensions; GGUF allows 1 to 4");
                }
                var shape = new long[nDims];
                for (int d = 0; d < nDims; d++)
                {
                    shape[d] = reader.Count($"dimension {d} of tensor '{name}'", long.MaxValue);
                }
                var type = (GgmlType)reader.U32($"type of tensor '{name}'");
                long offset = reader.Count($"offset of tensor '{name}'", long.MaxValue);
                infos[i] = (name, type, shape, offset);
            }

            DataOffset = AlignUp(reader.Position, Alignment);
            Tensors = BuildTensorInfos(infos, out _tensorsByName);
        }
        catch (GgufFormatException)
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>Opens and parses a GGUF file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="GgufFormatException">The file is not a readable GGUF file.</exception>
    public static GgufFile Open(string path)
    {
        var fileInfo = new FileInfo(path);
        if (!fileInfo.Exists)
        {
            throw new FileNotFoundException($"GGUF file not found: {path}", path);
        }
        long length = fileInfo.Length;
        if (length < 24)
        {
            throw new GgufFormatException(path, $"truncated file: {length} bytes is shorter than a GGUF header (24 bytes)");
        }
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor view;
        try
        {
            view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        }
        catch
        {
            map.Dispose();
            throw;
        }
        byte* ptr = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref ptr);
        ptr += view.PointerOffset;
        return new GgufFile(path, map, view, ptr, length);
    }

    /// <summary>The path the file was opened from.</summary>
    public string FilePath { get; }
    /// <summary>GGUF format version (2 or 3).</summary>
    public uint Version { get; }
    /// <summary>File size in bytes.</summary>
    public long FileSize { get; }
    /// <summary>Alignment of tensor data in bytes.</summary>
    public int Alignment { get; }
    /// <summary>Absolute offset where the tensor data section starts.</summary>
    public long DataOffset { get; }
    /// <summary>All metadata, in file order of insertion.</summary>
    public IReadOnlyDictionary<string, GgufValue> Metadata => _metadata;
    /// <summary>All tensors, in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>The architecture name (<c>general.architecture</c>).</summary>
    public string Architecture => GetString(GgufKeys.Architecture);

    /// <summary>Whether the file has metadata <paramref name="key"/>.</summary>
    public bool Contains(string key) => _metadata.ContainsKey(key);

    /// <summary>Looks up a tensor by name; null when absent.</summary>
    public GgufTensorInfo? FindTensor(string name) => _tensorsByName.GetValueOrDefault(name);

    /// <summary>Looks up a tensor by name.</summary>
    /// <exception cref="GgufFormatException">The tensor is missing.</exception>
    public GgufTensorInfo GetTensor(string name) => FindTensor(name)
        ?? throw new GgufFormatException(FilePath, $"required tensor '{name}' is missing");

    /// <summary>Pointer to the first byte of a tensor's data, valid until the file is disposed.</summary>
    public byte* TensorData(GgufTensorInfo tensor)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _base + tensor.Offset;
    }

    /// <summary>A tensor's bytes as a span (tensors under 2 GiB).</summary>
    public ReadOnlySpan<byte> TensorBytes(GgufTensorInfo tensor) =>
        new(TensorData(tensor), checked((int)tensor.ByteSize));

    /// <summary>A metadata value.</summary>
    /// <exception cref="GgufFormatException">The key is missing.</exception>
    public GgufValue Get(string key) => _metadata.TryGetValue(key, out GgufValue? v) ? v
        : throw new GgufFormatException(FilePath, $"required metadata key '{key}' is missing");

    /// <summary>A string value.</summary>
    public string GetString(string key) => Get(key).Value as string ?? throw WrongType(key, "a string");

    /// <summary>A string value, or null when the key is absent.</summary>
    public string? GetStringOrNull(string key) => Contains(key) ? GetString(key) : null;

    /// <summary>Any integer value that fits in a uint32.</summary>
    public uint GetUInt32(string key) => (uint)ToInteger(key, Get(key), uint.MaxValue);

    /// <summary>An integer value, or <paramref name="fallback"/> when the key is absent.</summary>
    public uint GetUInt32(string key, uint fallback) => Contains(key) ? GetUInt32(key) : fallback;

    /// <summary>A float value (float32 or float64 stored).</summary>
    public float GetFloat32(string key) => Get(key).Value switch
    {
        float f => f,
        double d => (float)d,
        _ => throw WrongType(key, "a float"),
    };

    /// <summary>A float value, or <paramref name="fallback"/> when the key is absent.</summary>
    public float GetFloat32(string key, float fallback) => Contains(key) ? GetFloat32(key) : fallback;

    /// <summary>A bool value, or <paramref name="fallback"/> when the key is absent.</summary>
    public bool GetBool(string key, bool fallback) => !Contains(key) ? fallback
        : Get(key).Value as bool? ?? throw WrongType(key, "a bool");

    /// <summary>An array value of element type <typeparamref name="T"/> (string, int, float, ...).</summary>
    public T[] GetArray<T>(string key) => Get(key).Value as T[] ?? throw WrongType(key, $"an array of {typeof(T).Name}");

    private GgufFormatException WrongType(string key, string expected) =>
        new(FilePath, $"metadata key '{key}' should be {expected}, but holds {Get(key).Type} {Get(key)}");

    private long ToInteger(string key, GgufValue v, long max)
    {
        long value = v.Value switch
        {
            byte b => b, sbyte sb => sb, ushort us => us, short s => s, uint u => u, int i => i,
            ulong ul => ul > long.MaxValue ? -1 : (long)ul, long l => l,
            _ => throw WrongType(key, "an integer"),
        };
        if (value < 0 || value > max)
        {
            throw new GgufFormatException(FilePath, $"metadata key '{key}' = {v} is out of range [0, {max}]");
        }
        return value;
    }

    private List<GgufTensorInfo> BuildTensorInfos(
        (string Name, GgmlType Type, long[] Shape, long RelOffset)[] infos,
        out Dictionary<string, GgufTensorInfo> byName)
    {
        var list = new List<GgufTensorInfo>(infos.Length);
        byName = new Dictionary<string, GgufTensorInfo>(infos.Length, StringComparer.Ordinal);
        foreach (var (name, type, shape, relOffset) in infos)
        {
            if (!GgmlTypeInfo.IsKnown(type))
            {
                throw new GgufFormatException(FilePath, $"tensor '{name}' has unknown type id {(uint)type}");
            }
            int block = GgmlTypeInfo.BlockSize(type);
            if (shape[0] % block != 0)
            {
                throw new GgufFormatException(FilePath,
                    $"tensor '{name}': row length {shape[0]} is not a multiple of {GgmlTypeInfo.Name(type)}'s block size {block}");
            }
            long bytes;
            try
            {
                bytes = GgmlTypeInfo.RowSize(type, shape[0]);
                for (int d = 1; d < shape.Length; d++)
                {
                    bytes = checked(bytes * shape[d]);
                }
            }
            catch (OverflowException)
            {
                throw new GgufFormatException(FilePath, $"tensor '{name}' shape {string.Join("x", shape)} is too large");
            }
            if (relOffset % Alignment != 0)
            {
                throw new GgufFormatException(FilePath, $"tensor '{name}' offset {relOffset} is not aligned to {Alignment}");
            }
            long offset = DataOffset + relOffset;
            if (offset < DataOffset || bytes > FileSize - offset)
            {
                throw new GgufFormatException(FilePath,
                    $"tensor '{name}' data [{offset}, {offset + bytes}) lies beyond the end of the file ({FileSize} bytes): the file is truncated or corrupt");
            }
            var info = new GgufTensorInfo(name, type, shape, offset, bytes);
            if (!byName.TryAdd(name, info))
            {
                throw new GgufFormatException(FilePath, $"duplicate tensor name '{name}'");
            }
            list.Add(info);
        }
        return list;
    }

    private static long AlignUp(long value, int alignment) => (value + alignment - 1) / alignment * alignment;

    /// <summary>Unmaps the file. Tensor pointers become invalid.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }

    /// <summary>Bounds-checked little-endian cursor over the mapped header.</summary>
    private sealed class Reader(string path, byte* basePtr, long length)
    {
        private const int MaxArrayDepth = 4;

        public long Position { get; private set; }

        private byte* Take(long bytes, string what)
        {
            if (bytes < 0 || bytes > length - Position)
            {
                throw new GgufFormatException(path,
                    $"truncated file: {what} needs {bytes} bytes at offset {Position}, but the file has {length} bytes");
            }
            byte* p = basePtr + Position;
            Position += bytes;
            return p;
        }

        public uint U32(string what) => *(uint*)Take(4, what);

        public long Count(string what, long max)
        {
            ulong v = *(ulong*)Take(8, what);
            if (v > (ulong)max)
            {
                throw new GgufFormatException(path, $"{what} = {v} at offset {Position - 8} is implausible (limit {max}): the file is corrupt");
            }
            return (long)v;
        }

        public string String(string what)
        {
            long n = Count($"length of {what}", length);
            byte* p = Take(n, what);
            return Encoding.UTF8.GetString(p, checked((int)n));
        }

        public GgufValue Value(GgufValueType type, string key, int depth)
        {
            string what = $"value of '{key}'";
            return type switch
            {
                GgufValueType.UInt8 => new(type, *Take(1, what)),
                GgufValueType.Int8 => new(type, *(sbyte*)Take(1, what)),
                GgufValueType.UInt16 => new(type, *(ushort*)Take(2, what)),
                GgufValueType.Int16 => new(type, *(short*)Take(2, what)),
                GgufValueType.UInt32 => new(type, *(uint*)Take(4, what)),
                GgufValueType.Int32 => new(type, *(int*)Take(4, what)),
                GgufValueType.Float32 => new(type, *(float*)Take(4, what)),
                GgufValueType.Bool => new(type, *Take(1, what) != 0),
                GgufValueType.String => new(type, String(what)),
                GgufValueType.UInt64 => new(type, *(ulong*)Take(8, what)),
                GgufValueType.Int64 => new(type, *(long*)Take(8, what)),
                GgufValueType.Float64 => new(type, *(double*)Take(8, what)),
                GgufValueType.Array when depth < MaxArrayDepth => Array(key, depth),
                _ => throw new GgufFormatException(path, $"metadata key '{key}' has unknown value type {(uint)type}"),
            };
        }

        private GgufValue Array(string key, int depth)
        {
            var elementType = (GgufValueType)U32($"array type of '{key}'");
            long n = Count($"array length of '{key}'", length - Position);
            string what = $"array '{key}'";
            object values = elementType switch
            {
                GgufValueType.UInt8 => Copy<byte>(n, what),
                GgufValueType.Int8 => Copy<sbyte>(n, what),
                GgufValueType.UInt16 => Copy<ushort>(n, what),
                GgufValueType.Int16 => Copy<short>(n, what),
                GgufValueType.UInt32 => Copy<uint>(n, what),
                GgufValueType.Int32 => Copy<int>(n, what),
                GgufValueType.Float32 => Copy<float>(n, what),
                GgufValueType.Bool => Bools(n, what),
                GgufValueType.UInt64 => Copy<ulong>(n, what),
                GgufValueType.Int64 => Copy<long>(n, what),
                GgufValueType.Float64 => Copy<double>(n, what),
                GgufValueType.String => Strings(n, key),
                GgufValueType.Array => Nested(n, key, depth),
                _ => throw new GgufFormatException(path, $"array '{key}' has unknown element type {(uint)elementType}"),
            };
            return new GgufValue(GgufValueType.Array, values, elementType);
        }

        private T[] Copy<T>(long n, string what) where T : unmanaged
        {
            byte* p = Take(checked(n * sizeof(T)), what);
            return new ReadOnlySpan<T>(p, checked((int)n)).ToArray();
        }

        private bool[] Bools(long n, string what)
        {
            byte* p = Take(n, what);
            var result = new bool[n];
            for (long i = 0; i < n; i++)
            {
                result[i] = p[i] != 0;
            }
            return result;
        }

        private string[] Strings(long n, string key)
        {
            var result = new string[n];
            for (long i = 0; i < n; i++)
            {
                // Vocabularies hold 100K+ strings: describe an element only when it is bad.
                if (Position <= length - 8 && *(ulong*)(basePtr + Position) <= (ulong)Math.Min(length - Position - 8, int.MaxValue))
                {
                    int size = (int)*(ulong*)(basePtr + Position);
                    result[i] = Encoding.UTF8.GetString(basePtr + Position + 8, size);
                    Position += 8 + size;
                }
                else
                {
                    result[i] = String($"element {i} of '{key}'");
                }
            }
            return result;
        }

        private GgufValue[] Nested(long n, string key, int depth)
        {
            var result = new GgufValue[n];
            for (long i = 0; i < n; i++)
            {
                result[i] = Value(GgufValueType.Array, key, depth + 1);
            }
            return result;
        }
    }
}
