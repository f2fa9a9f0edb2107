using LongCtx.Reference;
using LongCtx.Tensors;

namespace LongCtx.Tests.Tensors;

/// <summary>Weight (de)quantization and fp16/bf16 conversion, bit-exact against libggml-base.</summary>
public unsafe class QuantizeTests
{
    private const int Rows = 4;
    private const int Cols = 1024;

    private delegate void NativeQuantize(float* x, void* y, long k);
    private delegate void NativeDequantize(void* x, float* y, long k);

    private static NativeQuantize RefQuantizer(GgmlType t) => t switch
    {
        GgmlType.Q8_0 => GgmlNative.quantize_row_q8_0_ref,
        GgmlType.Q4_0 => GgmlNative.quantize_row_q4_0_ref,
        GgmlType.Q5_0 => GgmlNative.quantize_row_q5_0_ref,
        GgmlType.Q4_K => GgmlNative.quantize_row_q4_K_ref,
        GgmlType.Q5_K => GgmlNative.quantize_row_q5_K_ref,
        GgmlType.Q6_K => GgmlNative.quantize_row_q6_K_ref,
        GgmlType.Q8_K => GgmlNative.quantize_row_q8_K_ref,
        _ => throw new ArgumentException(t.ToString()),
    };

    private static NativeDequantize Dequantizer(GgmlType t) => t switch
    {
        GgmlType.Q8_0 => GgmlNative.dequantize_row_q8_0,
        GgmlType.Q4_0 => GgmlNative.dequantize_row_q4_0,
        GgmlType.Q5_0 => GgmlNative.dequantize_row_q5_0,
        GgmlType.Q4_K => GgmlNative.dequantize_row_q4_K,
        GgmlType.Q5_K => GgmlNative.dequantize_row_q5_K,
        GgmlType.Q6_K => GgmlNative.dequantize_row_q6_K,
        GgmlType.Q8_K => GgmlNative.dequantize_row_q8_K,
        _ => throw new ArgumentException(t.ToString()),
    };

    public static TheoryData<GgmlType> QuantTypes => new(GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K);

    [Theory]
    [MemberData(nameof(QuantTypes))]
    public void ReferenceQuantizeIsBitExact(GgmlType type)
    {
        int rowBytes = (int)GgmlTypeInfo.RowSize(type, Cols);
        for (int r = 0; r < Rows; r++)
        {
            float[] x = TensorTestData.Floats(Cols, 100 + r, scale: r == 3 ? 1e-3f : 1f);
            var mine = new byte[rowBytes];
            var theirs = new byte[rowBytes];
            Quantize.Row(type, x, mine);
            fixed (float* px = x)
            fixed (byte* py = theirs)
            {
                RefQuantizer(type)(px, py, Cols);
            }
            Assert.Equal(theirs, mine);
        }
    }

    [Theory]
    [MemberData(nameof(QuantTypes))]
    public void DequantizeIsBitExact(GgmlType type)
    {
        int rowBytes = (int)GgmlTypeInfo.RowSize(type, Cols);
        var rng = new Random(7);
        for (int r = 0; r < Rows; r++)
        {
            // Quantized real data, then raw random bytes (every bit pattern, incl. odd scales).
            var q = new byte[rowBytes];
            if (r % 2 == 0)
            {
                Quantize.Row(type, TensorTestData.Floats(Cols, r), q);
            }
            else
            {
                rng.NextBytes(q);
                SanitizeScales(type, q);
            }
            var mine = new float[Cols];
            var theirs = new float[Cols];
            Dequantize.Row(type, q, mine);
            fixed (byte* pq = q)
            fixed (float* py = theirs)
            {
                Dequantizer(type)(pq, py, Cols);
            }
            Assert.Equal(Bits(theirs), Bits(mine));
        }
    }

    // Random fp16 scales may be NaN/inf; keep them finite so that comparisons are meaningful
    // (the bit patterns would still match, but NaN != NaN in float asserts).
    private static void SanitizeScales(GgmlType type, byte[] q)
    {
        int bs = GgmlTypeInfo.TypeSize(type);
        for (int b = 0; b < q.Length; b += bs)
        {
            switch (type)
            {
                case GgmlType.Q8_K: q[b + 3] &= 0x3F; break;
                case GgmlType.Q6_K: q[b + 209] &= 0x3B; break;
                case GgmlType.Q4_K or GgmlType.Q5_K: q[b + 1] &= 0x3B; q[b + 3] &= 0x3B; break;
                default: q[b + 1] &= 0x3B; break;
            }
        }
    }

    private static int[] Bits(float[] f) => Array.ConvertAll(f, BitConverter.SingleToInt32Bits);

    [Fact]
    public void HalfAndBFloatConversionsAreBitExact()
    {
        // Every fp16/bf16 pattern widens identically.
        var all = new ushort[65536];
        for (int i = 0; i < all.Length; i++) all[i] = (ushort)i;
        var mine = new float[all.Length];
        var theirs = new float[all.Length];
        fixed (ushort* p = all)
        fixed (float* t = theirs)
        {
            HalfConversions.Fp16ToFp32(all, mine);
            GgmlNative.ggml_fp16_to_fp32_row(p, t, all.Length);
            Assert.Equal(Bits(theirs), Bits(mine));
            HalfConversions.Bf16ToFp32(all, mine);
            GgmlNative.ggml_bf16_to_fp32_row(p, t, all.Length);
            Assert.Equal(Bits(theirs), Bits(mine));
        }

        // Narrowing: random bit patterns (NaN, inf, subnormal) plus ties.
        var rng = new Random(3);
        var f = new float[4099];
        for (int i = 0; i < f.Length; i++)
        {
            f[i] = BitConverter.Int32BitsToSingle(rng.Next() ^ (rng.Next(2) << 31));
            if (i % 3 == 0) f[i] = BitConverter.Int32BitsToSingle((rng.Next(100, 150) << 23) | (rng.Next(1 << 10) << 13) | (1 << 12));
        }
        var h1 = new ushort[f.Length];
        var h2 = new ushort[f.Length];
        fixed (float* pf = f)
        fixed (ushort* p2 = h2)
        {
            HalfConversions.Fp32ToFp16(f, h1);
            GgmlNative.ggml_fp32_to_fp16_row(pf, p2, f.Length);
            Assert.Equal(h2, h1);
            HalfConversions.Fp32ToBf16(f, h1);
            GgmlNative.ggml_fp32_to_bf16_row_ref(pf, p2, f.Length);
            Assert.Equal(h2, h1);
        }
    }
}
