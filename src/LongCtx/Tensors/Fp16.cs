using System.Runtime.CompilerServices;

namespace LongCtx.Tensors;

/// <summary>
/// fp16 → float through a 65,536-entry table, as ggml's CPU backend does where it has no F16C
/// instruction (.NET exposes none): one load per scale instead of a dozen bit operations, and
/// exact, since each entry is <see cref="HalfConversions.Fp16ToFp32(ushort)"/> of its index.
/// </summary>
internal static unsafe class Fp16
{
    private static readonly float[] Values = Build();

    /// <summary>The table, pinned for the process lifetime.</summary>
    public static readonly float* Table = (float*)Unsafe.AsPointer(ref Values[0]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(ushort h) => Table[h];

    /// <summary>Widens the fp16 stored at <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float At(byte* p) => Table[*(ushort*)p];

    private static float[] Build()
    {
        float[] t = GC.AllocateUninitializedArray<float>(65536, pinned: true);
        for (int i = 0; i < t.Length; i++)
        {
            t[i] = HalfConversions.Fp16ToFp32((ushort)i);
        }
        return t;
    }
}
