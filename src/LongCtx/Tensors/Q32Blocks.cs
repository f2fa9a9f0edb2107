using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LongCtx.Tensors;

/// <summary>
/// A ggml block of 32 weights with one fp16 scale d at offset 0, dotted with Q8_0 activations:
/// value_i = d · (u_i − offset) with u_i an unsigned quant (Q8_0: w + 128; Q4_0: the nibble,
/// offset 8; Q5_0: nibble and fifth bit, offset 16). The offset goes into the VNNI lane sums
/// as −offset·Σ4 a = (−128·Σ4 a) &gt;&gt; <see cref="BiasShift"/>.
/// </summary>
internal unsafe interface IQ32Block
{
    /// <summary>Bytes per block.</summary>
    static abstract int Bytes { get; }
    /// <summary>log2(128 / offset): 0, 4 or 3.</summary>
    static abstract int BiasShift { get; }
    /// <summary>The 32 unsigned quants u_i, element i in byte i (ggml's element order).</summary>
    static abstract Vector256<byte> Load(byte* block);
    /// <summary>The signed quant value of element i (u_i − offset), for the scalar kernels.</summary>
    static abstract int Quant(byte* block, int i);
}

/// <summary>Q8_0 {fp16 d; i8 qs[32]}.</summary>
internal unsafe struct Q8_0Block : IQ32Block
{
    public static int Bytes => BlockLayout.Q8_0Bytes;
    public static int BiasShift => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Load(byte* block) => Vector256.Load(block + 2) ^ Vector256.Create((byte)0x80);

    public static int Quant(byte* block, int i) => (sbyte)block[2 + i];
}

/// <summary>Q4_0 {fp16 d; u8 qs[16]}: element j is the low nibble of qs[j], element j+16 the high one.</summary>
internal unsafe struct Q4_0Block : IQ32Block
{
    public static int Bytes => BlockLayout.Q4_0Bytes;
    public static int BiasShift => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Load(byte* block)
    {
        Vector128<byte> q = Vector128.Load(block + 2);
        return Vector256.Create(q, Vector128.ShiftRightLogical(q.AsUInt16(), 4).AsByte()) & Vector256.Create((byte)0x0F);
    }

    public static int Quant(byte* block, int i) => (i < 16 ? block[2 + i] & 0x0F : block[2 + i - 16] >> 4) - 8;
}

/// <summary>Q5_0 {fp16 d; u8 qh[4]; u8 qs[16]}: as Q4_0 plus bit j of qh as the fifth bit of element j.</summary>
internal unsafe struct Q5_0Block : IQ32Block
{
    public static int Bytes => BlockLayout.Q5_0Bytes;
    public static int BiasShift => 3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Load(byte* block)
    {
        Vector128<byte> q = Vector128.Load(block + 6);
        Vector256<byte> nibbles = Vector256.Create(q, Vector128.ShiftRightLogical(q.AsUInt16(), 4).AsByte()) & Vector256.Create((byte)0x0F);
        // bytes_from_bits_32: byte j = 0xFF where bit j of qh is set
        // (qh is broadcast to every dword, so the in-lane byte shuffle and the cross-lane one agree)
        Vector256<byte> bits = Vector256.Create(*(uint*)(block + 2)).AsByte();
        Vector256<byte> pick = Vector256.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        bits = System.Runtime.Intrinsics.X86.Avx2.IsSupported ? System.Runtime.Intrinsics.X86.Avx2.Shuffle(bits, pick) : Vector256.Shuffle(bits, pick);
        Vector256<byte> mask = Vector256.Create(0x8040201008040201ul).AsByte();
        Vector256<byte> high = Vector256.Equals(bits & mask, mask) & Vector256.Create((byte)0x10);
        return nibbles | high;
    }

    public static int Quant(byte* block, int i)
    {
        uint qh = *(uint*)(block + 2);
        int low = i < 16 ? block[6 + i] & 0x0F : block[6 + i - 16] >> 4;
        return (low | (int)(((qh >> i) & 1) << 4)) - 16;
    }
}
