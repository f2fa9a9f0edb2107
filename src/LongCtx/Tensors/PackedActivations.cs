using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LongCtx.Tensors;

/// <summary>
/// The activations of one matrix product, converted once to the weight type's vec_dot_type
/// (bit-exact with ggml's from_float), plus per-block side data that the SIMD kernels would
/// otherwise recompute for every weight row.
/// </summary>
internal unsafe struct PackedActivations
{
    /// <summary>The vec_dot_type.</summary>
    public GgmlType Type;
    /// <summary>Tokens and elements per token.</summary>
    public int N, Cols;
    /// <summary>N rows of ggml blocks, <see cref="RowBytes"/> apart.</summary>
    public byte* Rows;
    public long RowBytes;
    /// <summary>Q8_0: the scale d of block b of token t as float, at [t·blocks + b].</summary>
    public float* Scales;
    /// <summary>Q8_0: −128 · Σ of elements 4l..4l+3 of block b of token t, at [(t·blocks + b)·8 + l] (see <see cref="MatMulQ32{TBlock}"/>).</summary>
    public int* LaneBias;
    /// <summary>Q8_0: Σ of the 32 elements of block b of token t, at [t·blocks + b].</summary>
    public int* BlockSums;
    /// <summary>Q8_K with N &gt; 1: the quants widened to int16, at [t·cols + i].</summary>
    public short* Wide;

    /// <summary>Blocks per token row.</summary>
    public readonly int Blocks => Cols / GgmlTypeInfo.BlockSize(Type);

    /// <summary>Token <paramref name="t"/>'s row of blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly byte* Row(int t) => Rows + t * RowBytes;

    /// <summary>Bytes <see cref="Pack"/> needs for <paramref name="n"/> tokens of <paramref name="cols"/> elements.</summary>
    public static long BytesNeeded(GgmlType type, int cols, int n)
    {
        long rows = Align(GgmlTypeInfo.RowSize(type, cols) * n);
        if (type == GgmlType.Q8_0)
        {
            long blocks = (long)n * (cols / 32);
            return rows + Align(blocks * 4) + Align(blocks * 32) + Align(blocks * 4);
        }
        if (type == GgmlType.Q8_K && n > 1)
        {
            return rows + Align((long)n * cols * 2);
        }
        return rows;
    }

    /// <summary>Converts <paramref name="n"/> rows of <paramref name="x"/> into <paramref name="buffer"/> (<see cref="BytesNeeded"/> bytes, 64-byte aligned).</summary>
    public static PackedActivations Pack(GgmlType type, ReadOnlySpan<float> x, int n, int cols, byte* buffer)
    {
        long rowBytes = GgmlTypeInfo.RowSize(type, cols);
        var p = new PackedActivations { Type = type, N = n, Cols = cols, Rows = buffer, RowBytes = rowBytes };
        byte* next = buffer + Align(rowBytes * n);
        if (type == GgmlType.Q8_0)
        {
            int nb = cols / 32;
            long blocks = (long)n * nb;
            p.Scales = (float*)next;
            next += Align(blocks * 4);
            p.LaneBias = (int*)next;
            next += Align(blocks * 32);
            p.BlockSums = (int*)next;
            for (int t = 0; t < n; t++)
            {
                ActivationQuantize.Q8_0Row(x.Slice(t * cols, cols), p.Row(t), p.Scales + t * nb, p.LaneBias + t * nb * 8, p.BlockSums + t * nb);
            }
            return p;
        }
        for (int t = 0; t < n; t++)
        {
            ActivationQuantize.Row(type, x.Slice(t * cols, cols), new Span<byte>(p.Row(t), (int)rowBytes));
        }
        if (type == GgmlType.Q8_K && n > 1)
        {
            p.Wide = (short*)next;
            for (int t = 0; t < n; t++)
            {
                WidenQ8K(p.Row(t), p.Wide + (long)t * cols, cols / 256);
            }
        }
        return p;
    }

    private static void WidenQ8K(byte* row, short* dst, int blocks)
    {
        for (int b = 0; b < blocks; b++)
        {
            sbyte* q = (sbyte*)(row + b * BlockLayout.Q8_KBytes + BlockLayout.Q8_KQs);
            short* d = dst + b * 256;
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i < 256; i += 16)
                {
                    Vector128<sbyte> v = Vector128.Load(q + i);
                    Vector256.WidenLower(Vector256.Create(v, v)).Store(d + i);
                }
            }
            for (; i < 256; i++)
            {
                d[i] = q[i];
            }
        }
    }

    private static long Align(long bytes) => (bytes + 63) & ~63L;
}
