using System.Numerics.Tensors;
using LongCtx.KvCache;

namespace LongCtx.Attention;

/// <summary>
/// The two attention products over a head's quantized entries, computed on the codes without
/// decoding each entry first. With x = min + scale·code (<see cref="KvQuant"/>):
/// <list type="bullet">
/// <item>keys, one (min, scale) per channel per group of G tokens: q·k_j = Σ_c q_c·min_c +
/// Σ_c (q_c·scale_c)·code_jc, so each group folds the scales into the query once and adds the
/// constant term once, and each entry costs one dot product of the query with its codes;</item>
/// <item>values, one (min, scale) per group of G channels of each token: Σ_j p_j·v_j adds
/// (p_j·scale)·codes per channel group and collects Σ_j p_j·min per group, added at the end.</item>
/// </list>
/// KIVI (arXiv:2402.02750) does the same grouping in its fused kernels.
/// </summary>
internal static class QuantizedAttention
{
    [ThreadStatic] private static float[]? t_scratch;

    /// <summary>Writes q·k_j for entries j ∈ [0, <paramref name="count"/>) of <paramref name="store"/> into <paramref name="scores"/>.</summary>
    /// <remarks>The query <paramref name="q"/> is in the store's key channel space (KeyDim floats).</remarks>
    public static void Scores(ReadOnlySpan<float> q, KvQuantStore store, int count, Span<float> scores)
    {
        int kd = store.KeyDim, g = store.Format.Group, bits = store.Format.Bits;
        Span<float> buffer = Scratch(3 * kd);
        Span<float> scaled = buffer[..kd], min = buffer.Slice(kd, kd), codes = buffer.Slice(2 * kd, kd);
        for (int j0 = 0; j0 < count; j0 += g)
        {
            int group = j0 / g;
            TensorPrimitives.ConvertToSingle(store.KeyScale(group), scaled);
            TensorPrimitives.ConvertToSingle(store.KeyMin(group), min);
            float constant = TensorPrimitives.Dot(q[..kd], min);
            TensorPrimitives.Multiply(scaled, q[..kd], scaled);
            int end = Math.Min(count, j0 + g);
            for (int j = j0; j < end; j++)
            {
                KvQuant.Unpack(store.KeyCodes(j), bits, codes);
                scores[j] = constant + TensorPrimitives.Dot(scaled, codes);
            }
        }
    }

    /// <summary>Adds Σ_j p_j·v_j over entries j ∈ [0, p.Length) of <paramref name="store"/> to <paramref name="output"/> (ValueDim floats).</summary>
    public static void AccumulateValues(ReadOnlySpan<float> p, KvQuantStore store, Span<float> output)
    {
        int vd = store.ValueDim, g = store.Format.Group, bits = store.Format.Bits, groups = store.ValueGroups;
        Span<float> buffer = Scratch(vd + 3 * groups);
        Span<float> codes = buffer[..vd], constant = buffer.Slice(vd, groups), scale = buffer.Slice(vd + groups, groups), min = buffer.Slice(vd + 2 * groups, groups);
        constant.Clear();
        for (int j = 0; j < p.Length; j++)
        {
            float pj = p[j];
            KvQuant.Unpack(store.ValueCodes(j), bits, codes);
            TensorPrimitives.ConvertToSingle(store.ValueScale(j), scale);
            TensorPrimitives.ConvertToSingle(store.ValueMin(j), min);
            for (int vg = 0; vg < groups; vg++)
            {
                int c0 = vg * g, c1 = Math.Min(vd, c0 + g);
                TensorPrimitives.MultiplyAdd(codes[c0..c1], pj * scale[vg], output[c0..c1], output[c0..c1]);
                constant[vg] += pj * min[vg];
            }
        }
        for (int vg = 0; vg < groups; vg++)
        {
            int c0 = vg * g, c1 = Math.Min(vd, c0 + g);
            TensorPrimitives.Add(output[c0..c1], constant[vg], output[c0..c1]);
        }
    }

    private static Span<float> Scratch(int length)
    {
        if (t_scratch == null || t_scratch.Length < length)
        {
            t_scratch = new float[Math.Max(length, 2 * (t_scratch?.Length ?? 0))];
        }
        return t_scratch.AsSpan(0, length);
    }
}
