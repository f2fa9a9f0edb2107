using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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

/// <summary>Sixteen fp16 values to float at once (AVX-512), exact for every input including subnormals, ±∞ and NaN.</summary>
internal static class Fp16x16
{
    private static Vector512<float> Exp2P112 => Vector512.Create(0x77800000u).AsSingle();

    /// <summary>
    /// Sign-extended, shifted into place and masked, the fp16 bits read as a float 2^-112 times
    /// the value (subnormals included, as float subnormals), so one multiply by 2^112 finishes;
    /// exponent 31 (∞, NaN) gets the float exponent 255 instead.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> Load(ushort* p)
    {
        var s = Avx512F.ConvertToVector512Int32(Vector256.Load((short*)p));
        var bits = (s << 13) & Vector512.Create(unchecked((int)0x8FFFE000));
        var f = bits.AsSingle() * Exp2P112;
        var special = Vector512.Equals(s & Vector512.Create(0x7C00), Vector512.Create(0x7C00));
        if (special == Vector512<int>.Zero)
        {
            return f;
        }
        return Vector512.ConditionalSelect(special, (bits | Vector512.Create(0x70000000)).AsSingle().AsInt32(), f.AsInt32()).AsSingle();
    }
}
