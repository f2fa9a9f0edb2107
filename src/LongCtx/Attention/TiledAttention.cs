using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using LongCtx.Tensors;

namespace LongCtx.Attention;

/// <summary>
/// Attention of all the query heads that share one KV head (grouped-query attention), over that
/// head's F16 keys and values given as spans: each cached row is read and widened once per
/// step for the whole group, in tiles that stay in cache, instead of once per query head.
/// <para>
/// It sums in exactly the orders of llama.cpp's non-flash CPU path on AVX-512 — the orders that
/// <see cref="DenseAttention"/>, its readable specification, reproduces head by head (and tests
/// check bit for bit): Q and the softmax weights rounded to F16; K·Q as <c>ggml_vec_dot_f16</c>
/// (four 16-lane accumulators over steps of 64) for one query token, or as tinyBLAS (one 16-lane
/// accumulator) for a batch; ggml's softmax over the row padded with masked entries to a multiple
/// of 64; V·softmax in the same two orders along the keys; every 16-lane sum reduced as
/// <c>_mm512_reduce_add_ps</c>, here for 16 rows at a time by a transposing tree.
/// </para>
/// The kernels take spans (one head's rows, row-major), not a cache object, so any cache layout
/// that can hand out a head's keys and values can use them. AVX-512 only (<see cref="Available"/>).
/// </summary>
public static unsafe class TiledAttention
{
    private const int KeysPerSet = 64;   // ggml_vec_dot_f16's step: four accumulators of 16 lanes
    private const int TileSteps = 8;     // decode: V tile of 8 steps (512 keys) widened at a time

    [ThreadStatic] private static float[]? t_scratch;

    /// <summary>Whether this CPU runs these kernels (AVX-512F and DQ, as llama.cpp's AVX-512 build whose orders they keep).</summary>
    public static bool Available => GgmlF16Dot.Available;

    /// <summary>
    /// One query token: the outputs of <paramref name="heads"/> query heads over entries
    /// [0, <paramref name="count"/>) of one KV head, in llama.cpp's single-token orders.
    /// </summary>
    /// <param name="queries">heads × keyDim query values, head after head.</param>
    /// <param name="heads">Query heads in the group.</param>
    /// <param name="keys">At least count × keyDim keys, row-major.</param>
    /// <param name="values">At least count × valueDim values, row-major.</param>
    /// <param name="keyDim">Key head dimension.</param>
    /// <param name="valueDim">Value head dimension, a multiple of 16.</param>
    /// <param name="count">Entries visible to the query (at least 1).</param>
    /// <param name="scale">Score scale, usually 1/sqrt(keyDim).</param>
    /// <param name="output">heads × valueDim outputs.</param>
    /// <exception cref="ArgumentException">Spans too short, or a value dimension that is not a multiple of 16.</exception>
    /// <exception cref="PlatformNotSupportedException">Not <see cref="Available"/>.</exception>
    public static void Decode(ReadOnlySpan<float> queries, int heads, ReadOnlySpan<Half> keys, ReadOnlySpan<Half> values,
        int keyDim, int valueDim, int count, float scale, Span<float> output)
    {
        Check(queries, heads, keys, values, keyDim, valueDim, count, output);
        int padded = Pad(count);
        int tileKeys = TileSteps * KeysPerSet;
        // scratch: rounded queries | scores | key tile (16 rows) | reduce lanes | V tile | accumulators
        int qLen = heads * keyDim, sLen = heads * padded, kLen = 16 * keyDim, pLen = 16 * 16, vLen = tileKeys * valueDim, aLen = heads * KeysPerSet * valueDim;
        float[] scratch = Scratch(qLen + sLen + kLen + pLen + vLen + aLen + 16 * 6);
        fixed (float* s0 = scratch)
        fixed (float* q0 = queries)
        fixed (Half* k0 = keys, v0 = values)
        fixed (float* o0 = output)
        {
            float* qr = Align(s0), scores = Align(qr + qLen), kt = Align(scores + sLen), lanes = Align(kt + kLen);
            float* vt = Align(lanes + pLen), acc = Align(vt + vLen);
            RoundToHalf(q0, qr, qLen);
            Scores(qr, heads, (ushort*)k0, keyDim, count, padded, scores, kt, (Vector512<float>*)lanes, batched: false);
            for (int g = 0; g < heads; g++)
            {
                Softmax(scores + g * padded, count, padded, scale);
            }

            // V·softmax, ggml_vec_dot_f16 along the keys for every output dimension at once:
            // accumulator set s = j mod 64 gathers keys j = 64m + s, as lane s mod 16 of accumulator s / 16.
            new Span<float>(acc, aLen).Clear();
            int chunks = valueDim / 16;
            for (int t0 = 0; t0 < padded; t0 += tileKeys)
            {
                int steps = Math.Min(tileKeys, padded - t0) / KeysPerSet;
                WidenValuesBySet((ushort*)v0, valueDim, count, t0, steps, vt);
                if (valueDim == 64)
                {
                    // Four heads at a time share each widened value row: 16 accumulators in registers.
                    for (int g0 = 0; g0 < heads; g0 += 4)
                    {
                        AccumulateSets64(scores + t0, padded, g0, Math.Min(4, heads - g0), steps, vt, acc);
                    }
                    continue;
                }
                for (int g = 0; g < heads; g++)
                {
                    float* p = scores + g * padded + t0;
                    for (int s = 0; s < KeysPerSet; s++)
                    {
                        float* a = acc + ((long)g * KeysPerSet + s) * valueDim;
                        float* rows = vt + (long)s * steps * valueDim;
                        for (int c = 0; c < chunks; c++)
                        {
                            Vector512<float> sum = Vector512.Load(a + 16 * c);
                            for (int m = 0; m < steps; m++)
                            {
                                sum = Avx512F.FusedMultiplyAdd(Vector512.Load(rows + m * valueDim + 16 * c), Vector512.Create(p[m * KeysPerSet + s]), sum);
                            }
                            sum.Store(a + 16 * c);
                        }
                    }
                }
            }
            for (int g = 0; g < heads; g++)
            {
                ReduceSets(acc + (long)g * KeysPerSet * valueDim, valueDim, o0 + g * valueDim);
            }
        }
    }

    /// <summary>
    /// V·softmax for a value dim of 64 and up to four heads g0.. of the group: per accumulator set,
    /// each widened value row is loaded once and multiplied into every head's chains (the same
    /// per-chain order as the general loop).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateSets64(float* scores, int padded, int g0, int nh, int steps, float* vt, float* acc)
    {
        float* p0 = scores + g0 * padded, p1 = nh > 1 ? p0 + padded : p0, p2 = nh > 2 ? p0 + 2 * padded : p0, p3 = nh > 3 ? p0 + 3 * padded : p0;
        for (int s = 0; s < KeysPerSet; s++)
        {
            float* a0 = acc + ((long)g0 * KeysPerSet + s) * 64;
            float* a1 = a0 + KeysPerSet * 64, a2 = a1 + KeysPerSet * 64, a3 = a2 + KeysPerSet * 64;
            Vector512<float> x00 = Vector512.Load(a0), x01 = Vector512.Load(a0 + 16), x02 = Vector512.Load(a0 + 32), x03 = Vector512.Load(a0 + 48);
            Vector512<float> x10 = default, x11 = default, x12 = default, x13 = default, x20 = default, x21 = default, x22 = default, x23 = default;
            Vector512<float> x30 = default, x31 = default, x32 = default, x33 = default;
            if (nh > 1) { x10 = Vector512.Load(a1); x11 = Vector512.Load(a1 + 16); x12 = Vector512.Load(a1 + 32); x13 = Vector512.Load(a1 + 48); }
            if (nh > 2) { x20 = Vector512.Load(a2); x21 = Vector512.Load(a2 + 16); x22 = Vector512.Load(a2 + 32); x23 = Vector512.Load(a2 + 48); }
            if (nh > 3) { x30 = Vector512.Load(a3); x31 = Vector512.Load(a3 + 16); x32 = Vector512.Load(a3 + 32); x33 = Vector512.Load(a3 + 48); }
            float* rows = vt + (long)s * steps * 64;
            for (int m = 0; m < steps; m++, rows += 64)
            {
                int j = m * KeysPerSet + s;
                Vector512<float> v0 = Vector512.Load(rows), v1 = Vector512.Load(rows + 16), v2 = Vector512.Load(rows + 32), v3 = Vector512.Load(rows + 48);
                Vector512<float> w = Vector512.Create(p0[j]);
                x00 = Avx512F.FusedMultiplyAdd(v0, w, x00); x01 = Avx512F.FusedMultiplyAdd(v1, w, x01); x02 = Avx512F.FusedMultiplyAdd(v2, w, x02); x03 = Avx512F.FusedMultiplyAdd(v3, w, x03);
                w = Vector512.Create(p1[j]);
                x10 = Avx512F.FusedMultiplyAdd(v0, w, x10); x11 = Avx512F.FusedMultiplyAdd(v1, w, x11); x12 = Avx512F.FusedMultiplyAdd(v2, w, x12); x13 = Avx512F.FusedMultiplyAdd(v3, w, x13);
                w = Vector512.Create(p2[j]);
                x20 = Avx512F.FusedMultiplyAdd(v0, w, x20); x21 = Avx512F.FusedMultiplyAdd(v1, w, x21); x22 = Avx512F.FusedMultiplyAdd(v2, w, x22); x23 = Avx512F.FusedMultiplyAdd(v3, w, x23);
                w = Vector512.Create(p3[j]);
                x30 = Avx512F.FusedMultiplyAdd(v0, w, x30); x31 = Avx512F.FusedMultiplyAdd(v1, w, x31); x32 = Avx512F.FusedMultiplyAdd(v2, w, x32); x33 = Avx512F.FusedMultiplyAdd(v3, w, x33);
            }
            x00.Store(a0); x01.Store(a0 + 16); x02.Store(a0 + 32); x03.Store(a0 + 48);
            if (nh > 1) { x10.Store(a1); x11.Store(a1 + 16); x12.Store(a1 + 32); x13.Store(a1 + 48); }
            if (nh > 2) { x20.Store(a2); x21.Store(a2 + 16); x22.Store(a2 + 32); x23.Store(a2 + 48); }
            if (nh > 3) { x30.Store(a3); x31.Store(a3 + 16); x32.Store(a3 + 32); x33.Store(a3 + 48); }
        }
    }

    /// <summary>
    /// One token of a batch (llama.cpp's batched orders): the outputs of <paramref name="heads"/>
    /// query heads over entries [0, <paramref name="count"/>) of the KV head loaded in <paramref name="kv"/>.
    /// </summary>
    /// <param name="queries">heads × keyDim query values.</param>
    /// <param name="heads">Query heads in the group.</param>
    /// <param name="kv">The KV head, widened once for the whole batch.</param>
    /// <param name="count">Entries visible to this token (at most <see cref="BatchKv.Count"/>).</param>
    /// <param name="scale">Score scale.</param>
    /// <param name="output">heads × valueDim outputs.</param>
    /// <exception cref="ArgumentException">Bad count or spans too short.</exception>
    public static void Batch(ReadOnlySpan<float> queries, int heads, BatchKv kv, int count, float scale, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(kv);
        if (count < 1 || count > kv.Count) throw new ArgumentException($"count {count} is outside 1..{kv.Count}", nameof(count));
        int kd = kv.KeyDim, vd = kv.ValueDim, padded = Pad(count);
        if (queries.Length < heads * kd) throw new ArgumentException($"queries hold {queries.Length} values, need {heads}·{kd}", nameof(queries));
        if (output.Length < heads * vd) throw new ArgumentException($"output holds {output.Length} values, need {heads}·{vd}", nameof(output));
        int qLen = heads * kd, sLen = heads * padded, pLen = 16 * 16;
        float[] scratch = Scratch(qLen + sLen + pLen + 16 * 4);
        fixed (float* s0 = scratch)
        fixed (float* q0 = queries)
        fixed (float* o0 = output)
        fixed (float* keys = kv.Keys, vt = kv.ValuesByDim)
        {
            float* qr = Align(s0), scores = Align(qr + qLen), lanes = Align(scores + sLen);
            RoundToHalf(q0, qr, qLen);
            ScoresFromFloat(qr, heads, keys, kd, count, padded, scores, (Vector512<float>*)lanes);
            var p = (Vector512<float>*)lanes;
            for (int g = 0; g < heads; g++)
            {
                float* w = scores + g * padded;
                Softmax(w, count, padded, scale);
                // tinyBLAS along the keys: one 16-lane chain per output dimension, 16 dimensions at a time.
                for (int i0 = 0; i0 < vd; i0 += 16)
                {
                    for (int i = 0; i < 16; i++)
                    {
                        float* col = vt + (long)(i0 + i) * kv.Stride;
                        Vector512<float> sum = Vector512<float>.Zero;
                        for (int j = 0; j < padded; j += 16)
                        {
                            sum = Avx512F.FusedMultiplyAdd(Vector512.Load(col + j), Vector512.Load(w + j), sum);
                        }
                        p[i] = sum;
                    }
                    ReduceAdd16(p).Store(o0 + g * vd + i0);
                }
            }
        }
    }

    /// <summary>Entries rounded up to a multiple of 64, as llama.cpp's padded KV view (masked entries weigh 0).</summary>
    private static int Pad(int count) => (count + KeysPerSet - 1) & ~(KeysPerSet - 1);

    private static void Check(ReadOnlySpan<float> queries, int heads, ReadOnlySpan<Half> keys, ReadOnlySpan<Half> values, int kd, int vd, int count, ReadOnlySpan<float> output)
    {
        if (!Available) throw new PlatformNotSupportedException("TiledAttention needs AVX-512F and AVX-512DQ");
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (vd % 16 != 0 || kd < 1) throw new ArgumentException($"key dim {kd} / value dim {vd}: the value dim must be a multiple of 16", nameof(vd));
        if (queries.Length < heads * kd) throw new ArgumentException($"queries hold {queries.Length} values, need {heads}·{kd}", nameof(queries));
        if (keys.Length < (long)count * kd) throw new ArgumentException($"keys hold {keys.Length} values, need {count}·{kd}", nameof(keys));
        if (values.Length < (long)count * vd) throw new ArgumentException($"values hold {values.Length} values, need {count}·{vd}", nameof(values));
        if (output.Length < heads * vd) throw new ArgumentException($"output holds {output.Length} values, need {heads}·{vd}", nameof(output));
    }

    /// <summary>K·Q for every head and key, widening each 16-key tile once; keys past <paramref name="count"/> score −∞.</summary>
    private static void Scores(float* qr, int heads, ushort* keys, int kd, int count, int padded, float* scores, float* kt, Vector512<float>* p, bool batched)
    {
        for (int j0 = 0; j0 < count; j0 += 16)
        {
            int nk = Math.Min(16, count - j0);
            for (int jj = 0; jj < 16; jj++)
            {
                float* row = kt + jj * kd;
                if (jj < nk)
                {
                    Widen(keys + (long)(j0 + jj) * kd, row, kd);
                }
                else
                {
                    new Span<float>(row, kd).Clear();
                }
            }
            for (int g = 0; g < heads; g++)
            {
                DotTile(qr + g * kd, kt, kd, p, batched, scores + g * padded + j0, nk);
            }
        }
        for (int g = 0; g < heads; g++)
        {
            new Span<float>(scores + g * padded + count, padded - count).Fill(float.NegativeInfinity);
        }
    }

    private static void ScoresFromFloat(float* qr, int heads, float* keys, int kd, int count, int padded, float* scores, Vector512<float>* p)
    {
        for (int g = 0; g < heads; g++)
        {
            for (int j0 = 0; j0 < count; j0 += 16)
            {
                DotTile(qr + g * kd, keys + (long)j0 * kd, kd, p, batched: true, scores + g * padded + j0, Math.Min(16, count - j0));
            }
            new Span<float>(scores + g * padded + count, padded - count).Fill(float.NegativeInfinity);
        }
    }

    /// <summary>
    /// Sixteen dot products of one query with 16 key rows (rows past <paramref name="nk"/> are
    /// ignored), in ggml_vec_dot_f16's order or, batched with a multiple of 16, tinyBLAS's.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotTile(float* q, float* k, int kd, Vector512<float>* p, bool batched, float* dst, int nk)
    {
        if (batched && kd % 16 == 0)
        {
            for (int jj = 0; jj < 16; jj++)
            {
                float* row = k + jj * kd;
                Vector512<float> acc = Vector512<float>.Zero;
                for (int i = 0; i < kd; i += 16)
                {
                    acc = Avx512F.FusedMultiplyAdd(Vector512.Load(q + i), Vector512.Load(row + i), acc);
                }
                p[jj] = acc;
            }
            Store(ReduceAdd16(p), dst, nk);
            return;
        }
        int np = kd & ~63;
        for (int jj = 0; jj < 16; jj++)
        {
            float* row = k + jj * kd;
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int i = 0; i < np; i += 64)
            {
                s0 = Avx512F.FusedMultiplyAdd(Vector512.Load(q + i), Vector512.Load(row + i), s0);
                s1 = Avx512F.FusedMultiplyAdd(Vector512.Load(q + i + 16), Vector512.Load(row + i + 16), s1);
                s2 = Avx512F.FusedMultiplyAdd(Vector512.Load(q + i + 32), Vector512.Load(row + i + 32), s2);
                s3 = Avx512F.FusedMultiplyAdd(Vector512.Load(q + i + 48), Vector512.Load(row + i + 48), s3);
            }
            p[jj] = (s0 + s2) + (s1 + s3);
        }
        Vector512<float> sums = ReduceAdd16(p);
        if (np == kd)
        {
            Store(sums, dst, nk);
            return;
        }
        // ggml_vec_dot_f16's leftovers: float products summed in double after the vector part.
        for (int jj = 0; jj < nk; jj++)
        {
            float* row = k + jj * kd;
            double sum = sums[jj];
            for (int i = np; i < kd; i++)
            {
                sum += q[i] * row[i];
            }
            dst[jj] = (float)sum;
        }
    }

    private static void Store(Vector512<float> v, float* dst, int n)
    {
        if (n == 16)
        {
            v.Store(dst);
            return;
        }
        for (int i = 0; i < n; i++)
        {
            dst[i] = v[i];
        }
    }

    /// <summary>
    /// Sixteen <c>_mm512_reduce_add_ps</c> at once: lane i of the result is the reduction of
    /// p[i], paired exactly as <see cref="GgmlExp.ReduceAdd"/>: halves of 256, of 128, then (0,2)(1,3), then (0,1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> ReduceAdd16(Vector512<float>* p)
    {
        // 16 → 8 vectors: [key 2m lanes i+(i+8) | key 2m+1 lanes i+(i+8)]
        Vector512<float> a0 = Half8(p[0], p[1]), a1 = Half8(p[2], p[3]), a2 = Half8(p[4], p[5]), a3 = Half8(p[6], p[7]);
        Vector512<float> a4 = Half8(p[8], p[9]), a5 = Half8(p[10], p[11]), a6 = Half8(p[12], p[13]), a7 = Half8(p[14], p[15]);
        // 8 → 4: each 128-bit chunk the four b-lanes of one key: chunks of b_k are keys 4k..4k+3
        Vector512<float> b0 = Half4(a0, a1), b1 = Half4(a2, a3), b2 = Half4(a4, a5), b3 = Half4(a6, a7);
        // 4 → 2: per chunk [c0, c1] of two keys
        Vector512<float> c0 = Avx512F.Shuffle(b0, b1, 0b01_00_01_00) + Avx512F.Shuffle(b0, b1, 0b11_10_11_10);
        Vector512<float> c1 = Avx512F.Shuffle(b2, b3, 0b01_00_01_00) + Avx512F.Shuffle(b2, b3, 0b11_10_11_10);
        // 2 → 1: chunk q holds keys q, 4+q, 8+q, 12+q
        Vector512<float> d = Avx512F.Shuffle(c0, c1, 0b10_00_10_00) + Avx512F.Shuffle(c0, c1, 0b11_01_11_01);
        return Avx512F.PermuteVar16x32(d, Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Half8(Vector512<float> x, Vector512<float> y) =>
        Avx512F.Shuffle4x128(x, y, 0b01_00_01_00) + Avx512F.Shuffle4x128(x, y, 0b11_10_11_10);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Half4(Vector512<float> x, Vector512<float> y) =>
        Avx512F.Shuffle4x128(x, y, 0b10_00_10_00) + Avx512F.Shuffle4x128(x, y, 0b11_01_11_01);

    /// <summary>ggml's soft_max on one padded row (entries past count are −∞), then the weights rounded to F16 for V·softmax.</summary>
    private static void Softmax(float* w, int count, int padded, float scale)
    {
        var row = new Span<float>(w, padded);
        DenseAttention.Softmax(row, scale);
        RoundToHalf(w, w, count);
    }

    /// <summary>dst[i] = (float)(Half)src[i]: round to nearest even at F16 precision, F16 subnormals included.</summary>
    internal static void RoundToHalf(float* src, float* dst, int n)
    {
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            RoundToHalf(Vector512.Load(src + i)).Store(dst + i);
        }
        for (; i < n; i++)
        {
            dst[i] = (float)(Half)src[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> RoundToHalf(Vector512<float> x)
    {
        Vector512<uint> bits = x.AsUInt32(), mag = bits & Vector512.Create(0x7FFFFFFFu);
        // Normal F16 range: round the float mantissa to 10 bits, to nearest even.
        Vector512<uint> normal = (bits + Vector512.Create(0x0FFFu) + ((bits >> 13) & Vector512<uint>.One)) & Vector512.Create(~0x1FFFu);
        // Below 2^-14 (F16 subnormals): multiples of 2^-24, where 0.5 + |x| has exactly that ulp.
        Vector512<float> ax = mag.AsSingle();
        Vector512<float> tiny = (ax + Vector512.Create(0.5f)) - Vector512.Create(0.5f);
        Vector512<uint> small = tiny.AsUInt32() | (bits & Vector512.Create(0x80000000u));
        Vector512<uint> isSmall = Vector512.LessThan(mag, Vector512.Create(0x38800000u));
        // At or above 65520 (and ∞, NaN) the plain conversion decides.
        Vector512<uint> big = Vector512.GreaterThanOrEqual(mag, Vector512.Create(0x477FF000u));
        Vector512<float> r = Vector512.ConditionalSelect(isSmall, small, normal).AsSingle();
        if (big != Vector512<uint>.Zero)
        {
            for (int k = 0; k < 16; k++)
            {
                if (big[k] != 0) r = r.WithElement(k, (float)(Half)x[k]);
            }
        }
        return r;
    }

    /// <summary>Widens <paramref name="n"/> F16 values.</summary>
    private static void Widen(ushort* src, float* dst, int n)
    {
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            Fp16x16.Load(src + i).Store(dst + i);
        }
        for (; i < n; i++)
        {
            dst[i] = Fp16.ToFloat(src[i]);
        }
    }

    /// <summary>
    /// Widens the value rows of keys [t0, t0 + 64·steps) into set-major order: key t0 + 64m + s goes
    /// to row m of set s, so that each accumulator set reads its keys contiguously; rows past
    /// <paramref name="count"/> are zeros (their weights are 0).
    /// </summary>
    private static void WidenValuesBySet(ushort* values, int vd, int count, int t0, int steps, float* vt)
    {
        for (int m = 0; m < steps; m++)
        {
            for (int s = 0; s < KeysPerSet; s++)
            {
                int j = t0 + m * KeysPerSet + s;
                float* dst = vt + ((long)s * steps + m) * vd;
                if (j < count)
                {
                    Widen(values + (long)j * vd, dst, vd);
                }
                else
                {
                    new Span<float>(dst, vd).Clear();
                }
            }
        }
    }

    /// <summary>
    /// The end of ggml_vec_dot_f16 for every output dimension at once: per lane l,
    /// (acc0 + acc2) + (acc1 + acc3) over the four accumulators, then the reduce-add tree over the lanes.
    /// </summary>
    private static void ReduceSets(float* acc, int vd, float* output)
    {
        Span<Vector512<float>> t = stackalloc Vector512<float>[16];
        for (int c = 0; c < vd; c += 16)
        {
            for (int l = 0; l < 16; l++)
            {
                Vector512<float> a0 = Vector512.Load(acc + l * vd + c), a1 = Vector512.Load(acc + (16 + l) * vd + c);
                Vector512<float> a2 = Vector512.Load(acc + (32 + l) * vd + c), a3 = Vector512.Load(acc + (48 + l) * vd + c);
                t[l] = (a0 + a2) + (a1 + a3);
            }
            for (int l = 0; l < 8; l++) t[l] += t[l + 8];
            for (int l = 0; l < 4; l++) t[l] += t[l + 4];
            Vector512<float> r = (t[0] + t[2]) + (t[1] + t[3]);
            r.Store(output + c);
        }
    }

    private static float[] Scratch(int floats)
    {
        float[]? s = t_scratch;
        if (s == null || s.Length < floats)
        {
            // Grows in large steps so that a growing context reallocates rarely; pinned so that addresses stay put.
            int size = Math.Max(floats, (int)Math.Min(int.MaxValue, (s?.Length ?? 0) * 2L));
            s = GC.AllocateUninitializedArray<float>((size + 4095) & ~4095, pinned: true);
            t_scratch = s;
        }
        return s;
    }

    private static float* Align(float* p) => (float*)(((nint)p + 63) & ~(nint)63);
}

/// <summary>
/// One KV head's keys and values widened to float once for a batch of query tokens: keys as rows,
/// values transposed (one row per value dimension, keys along it) so that V·softmax reads both
/// operands contiguously; zero-padded to a multiple of 64 entries. Reused across layers and calls.
/// </summary>
public sealed class BatchKv
{
    private float[] _keys = [], _values = [];

    /// <summary>Entries loaded.</summary>
    public int Count { get; private set; }
    /// <summary>Key dimension.</summary>
    public int KeyDim { get; private set; }
    /// <summary>Value dimension.</summary>
    public int ValueDim { get; private set; }
    /// <summary>Floats per transposed value row (the padded entry count).</summary>
    internal int Stride { get; private set; }
    internal float[] Keys => _keys;
    internal float[] ValuesByDim => _values;

    /// <summary>Widens entries [0, <paramref name="count"/>) of one KV head.</summary>
    /// <exception cref="ArgumentException">Spans shorter than count rows.</exception>
    public unsafe void Load(ReadOnlySpan<Half> keys, ReadOnlySpan<Half> values, int keyDim, int valueDim, int count)
    {
        if (keys.Length < (long)count * keyDim || values.Length < (long)count * valueDim)
        {
            throw new ArgumentException($"{count} entries need {count}·{keyDim} keys and {count}·{valueDim} values", nameof(count));
        }
        int padded = (count + 63) & ~63;
        Count = count;
        KeyDim = keyDim;
        ValueDim = valueDim;
        Stride = padded;
        Ensure(ref _keys, (long)padded * keyDim);
        Ensure(ref _values, (long)padded * valueDim);
        fixed (Half* k = keys, v = values)
        fixed (float* kd = _keys, vd = _values)
        {
            var ks = (ushort*)k;
            int i = 0, n = count * keyDim;
            for (; i + 16 <= n; i += 16) Fp16x16.Load(ks + i).Store(kd + i);
            for (; i < n; i++) kd[i] = Fp16.ToFloat(ks[i]);
            new Span<float>(kd + n, (padded - count) * keyDim).Clear();
            // Transpose 16 entries × 16 dimensions at a time through a small block.
            var vs = (ushort*)v;
            float* block = stackalloc float[16 * 16];
            for (int j0 = 0; j0 < padded; j0 += 16)
            {
                for (int c = 0; c < valueDim; c += 16)
                {
                    for (int jj = 0; jj < 16; jj++)
                    {
                        int j = j0 + jj;
                        if (j < count && c + 16 <= valueDim)
                        {
                            Fp16x16.Load(vs + (long)j * valueDim + c).Store(block + jj * 16);
                        }
                        else
                        {
                            for (int i2 = 0; i2 < 16; i2++) block[jj * 16 + i2] = j < count && c + i2 < valueDim ? Fp16.ToFloat(vs[(long)j * valueDim + c + i2]) : 0f;
                        }
                    }
                    for (int i2 = 0; i2 < 16 && c + i2 < valueDim; i2++)
                    {
                        float* dst = vd + (long)(c + i2) * padded + j0;
                        for (int jj = 0; jj < 16; jj++) dst[jj] = block[jj * 16 + i2];
                    }
                }
            }
        }
    }

    private static void Ensure(ref float[] a, long length)
    {
        if (a.Length < length)
        {
            a = GC.AllocateUninitializedArray<float>(checked((int)Math.Max(length, a.Length * 3L / 2)), pinned: true);
        }
    }
}
