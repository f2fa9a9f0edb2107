namespace LongCtx.Tensors;

/// <summary>
/// Block geometry and names of <see cref="GgmlType"/> values, as ggml's <c>type_traits</c> table
/// (ggml.c) gives them.
/// </summary>
public static class GgmlTypeInfo
{
    /// <summary>Weights per super-block of the k-quants.</summary>
    public const int QK_K = 256;

    // One past the highest id ggml knows (GGML_TYPE_COUNT).
    private const int Count = 43;

    // Indexed by id; a zero block size marks an unknown or removed id.
    private static readonly (string Name, int Block, int Size)[] Table = BuildTable();

    private static (string, int, int)[] BuildTable()
    {
        var t = new (string, int, int)[Count];
        t[(int)GgmlType.F32] = ("f32", 1, 4);
        t[(int)GgmlType.F16] = ("f16", 1, 2);
        t[(int)GgmlType.Q4_0] = ("q4_0", 32, 2 + 16);
        t[(int)GgmlType.Q4_1] = ("q4_1", 32, 4 + 16);
        t[(int)GgmlType.Q5_0] = ("q5_0", 32, 2 + 4 + 16);
        t[(int)GgmlType.Q5_1] = ("q5_1", 32, 4 + 4 + 16);
        t[(int)GgmlType.Q8_0] = ("q8_0", 32, 2 + 32);
        t[(int)GgmlType.Q8_1] = ("q8_1", 32, 4 + 32);
        t[(int)GgmlType.Q2_K] = ("q2_K", QK_K, 4 + QK_K / 16 + QK_K / 4);
        t[(int)GgmlType.Q3_K] = ("q3_K", QK_K, 2 + QK_K / 4 + QK_K / 8 + 12);
        t[(int)GgmlType.Q4_K] = ("q4_K", QK_K, 4 + 12 + QK_K / 2);
        t[(int)GgmlType.Q5_K] = ("q5_K", QK_K, 4 + 12 + QK_K / 2 + QK_K / 8);
        t[(int)GgmlType.Q6_K] = ("q6_K", QK_K, 2 + QK_K / 16 + 3 * QK_K / 4);
        t[(int)GgmlType.Q8_K] = ("q8_K", QK_K, 4 + QK_K + QK_K / 16 * 2);
        t[(int)GgmlType.IQ2_XXS] = ("iq2_xxs", QK_K, 2 + QK_K / 8 * 2);
        t[(int)GgmlType.IQ2_XS] = ("iq2_xs", QK_K, 2 + QK_K / 8 * 2 + QK_K / 32);
        t[(int)GgmlType.IQ3_XXS] = ("iq3_xxs", QK_K, 2 + 3 * (QK_K / 8));
        t[(int)GgmlType.IQ1_S] = ("iq1_s", QK_K, 2 + QK_K / 8 + QK_K / 16);
        t[(int)GgmlType.IQ4_NL] = ("iq4_nl", 32, 2 + 16);
        t[(int)GgmlType.IQ3_S] = ("iq3_s", QK_K, 2 + 13 * (QK_K / 32) + QK_K / 64);
        t[(int)GgmlType.IQ2_S] = ("iq2_s", QK_K, 2 + QK_K / 4 + QK_K / 16);
        t[(int)GgmlType.IQ4_XS] = ("iq4_xs", QK_K, 2 + 2 + QK_K / 64 + QK_K / 2);
        t[(int)GgmlType.I8] = ("i8", 1, 1);
        t[(int)GgmlType.I16] = ("i16", 1, 2);
        t[(int)GgmlType.I32] = ("i32", 1, 4);
        t[(int)GgmlType.I64] = ("i64", 1, 8);
        t[(int)GgmlType.F64] = ("f64", 1, 8);
        t[(int)GgmlType.IQ1_M] = ("iq1_m", QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32);
        t[(int)GgmlType.BF16] = ("bf16", 1, 2);
        t[(int)GgmlType.TQ1_0] = ("tq1_0", QK_K, 2 + QK_K / 64 + (QK_K - 4 * QK_K / 64) / 5);
        t[(int)GgmlType.TQ2_0] = ("tq2_0", QK_K, 2 + QK_K / 4);
        t[(int)GgmlType.MXFP4] = ("mxfp4", 32, 1 + 16);
        t[(int)GgmlType.NVFP4] = ("nvfp4", 64, 4 + 32);
        t[(int)GgmlType.Q1_0] = ("q1_0", 128, 2 + 16);
        t[(int)GgmlType.Q2_0] = ("q2_0", 64, 2 + 16);
        return t;
    }

    /// <summary>True when <paramref name="type"/> is an id ggml currently defines.</summary>
    public static bool IsKnown(GgmlType type) => (uint)type < Count && Table[(int)type].Block != 0;

    /// <summary>
    /// True for the types this engine can dequantize and multiply: F32, F16, BF16, Q8_0, Q4_0, Q5_0,
    /// Q4_K, Q5_K, Q6_K. (Q8_K is known and used internally for activations, not as a weight type.)
    /// </summary>
    public static bool IsSupported(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;

    /// <summary>Elements per block (1 for plain types).</summary>
    /// <exception cref="ArgumentException">The type id is unknown.</exception>
    public static int BlockSize(GgmlType type) => Entry(type).Block;

    /// <summary>Bytes per block.</summary>
    /// <exception cref="ArgumentException">The type id is unknown.</exception>
    public static int TypeSize(GgmlType type) => Entry(type).Size;

    /// <summary>ggml's name for the type (<c>"q4_K"</c>, <c>"bf16"</c>, ...), or <c>"unknown(N)"</c>.</summary>
    public static string Name(GgmlType type) => IsKnown(type) ? Table[(int)type].Name : $"unknown({(uint)type})";

    /// <summary>The type with ggml's name <paramref name="name"/> (<c>"q4_K"</c>, <c>"f16"</c>; case-insensitive).</summary>
    /// <exception cref="ArgumentException">No ggml type has that name.</exception>
    public static GgmlType Parse(string name)
    {
        for (uint id = 0; id < Count; id++)
        {
            if (IsKnown((GgmlType)id) && string.Equals(Table[id].Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return (GgmlType)id;
            }
        }
        throw new ArgumentException($"unknown ggml type '{name}'", nameof(name));
    }

    /// <summary>Bytes taken by <paramref name="n"/> consecutive elements of <paramref name="type"/>.</summary>
    /// <exception cref="ArgumentException">The type is unknown, or <paramref name="n"/> is negative or not a multiple of the block size.</exception>
    public static long RowSize(GgmlType type, long n)
    {
        var (name, block, size) = Entry(type);
        if (n < 0 || n % block != 0)
        {
            throw new ArgumentException($"{n} elements is not a whole number of {name} blocks of {block}.", nameof(n));
        }
        return n / block * size;
    }

    private static (string Name, int Block, int Size) Entry(GgmlType type) => IsKnown(type)
        ? Table[(int)type]
        : throw new ArgumentException($"unknown ggml type id {(uint)type}", nameof(type));
}
