using System.Numerics.Tensors;
using LongCtx.Attention;
using LongCtx.Models;
using LongCtx.Tensors;

namespace LongCtx.KvCache.Presses;

/// <summary>
/// Expected Attention: model the future queries as a Gaussian (mean and covariance of the recorded
/// pre-RoPE queries, rotated by the average RoPE rotation of the next <see cref="Future"/>
/// positions) and keep the entries with the largest expected attention
/// softmax(μ·k/√d + ½·kᵀΣk/d), times ‖v‖; sinks always kept. arXiv:2510.00636 (kvpress).
/// Here the statistics come from the last <see cref="Window"/> queries rather than from every
/// prefill hidden state.
/// </summary>
public sealed class ExpectedAttentionPress : ScorerPress
{
    /// <summary>Recorded queries whose statistics stand for the future ones (256).</summary>
    public int Window { get; init; } = 256;
    /// <summary>Future positions averaged into the rotation (kvpress's n_future_positions, 512).</summary>
    public int Future { get; init; } = 512;
    /// <summary>Initial entries always kept (4).</summary>
    public int Sinks { get; init; } = 4;
    /// <summary>Use the query covariance as well as the mean (true).</summary>
    public bool Covariance { get; init; } = true;
    /// <summary>Rescale the scores by the value norms (true).</summary>
    public bool ValueNorm { get; init; } = true;
    /// <summary>Added to the scores before the value-norm rescaling (0).</summary>
    public float Epsilon { get; init; }

    /// <inheritdoc/>
    public override KvObservationNeeds Needs => new(QueryWindow: Window);

    /// <inheritdoc/>
    protected internal override void Score(KvPressContext context, int layer, int kvHead, int keep, Span<float> scores)
    {
        KvObservations observed = context.RequireQueries("expected_attention", Window);
        ModelConfig c = context.Config;
        KvHeadView head = context.Cache.Head(layer, kvHead);
        int n = head.Count, kd = head.KeyDim, hd = c.HeadDim, group = c.KvGroup, sinks = Math.Min(Sinks, n);
        int w = Math.Min(Window, observed.QueryCount), first = observed.QueryCount - w;
        (float[] cos, float[] sin) = MeanRotation(context);

        var keys = new float[n * kd];
        var values = new float[head.ValueDim];
        var valueNorm = new float[n];
        for (int j = 0; j < n; j++)
        {
            head.ReadKey(j, keys.AsSpan(j * kd, kd));
            head.ReadValue(j, values);
            valueNorm[j] = TensorPrimitives.Norm(values);
        }

        var expected = new float[n];
        var z = new float[n];
        var mu = new float[hd];
        var cov = new float[hd * hd];
        var sample = new float[hd];
        var angles = new float[c.RopeDimensions];
        var muKept = new float[kd];
        var covKept = new float[kd * kd];
        var sigmaK = new float[kd];
        for (int g = 0; g < group; g++)
        {
            // Mean and covariance of the pre-RoPE queries: undo each query's rotation
            int qh = kvHead * group + g;
            Array.Clear(mu);
            Array.Clear(cov);
            var samples = new float[w * hd];
            for (int i = 0; i < w; i++)
            {
                Span<float> x = samples.AsSpan(i * hd, hd);
                observed.Queries(layer, first + i).Slice(qh * hd, hd).CopyTo(x);
                Rope.Angles(observed.QueryPosition(first + i), c.RopeDimensions, c.RopeFreqBase, c.RopeFreqScale, context.RopeFreqFactors.Span, angles);
                for (int a = 1; a < angles.Length; a += 2)
                {
                    angles[a] = -angles[a];
                }
                Rope.Apply(x, hd, angles, c.Architecture.Rope);
                TensorPrimitives.Add(mu, x, mu);
            }
            TensorPrimitives.Multiply(mu, 1f / w, mu);
            if (Covariance)
            {
                for (int i = 0; i < w; i++)
                {
                    Span<float> x = samples.AsSpan(i * hd, hd);
                    TensorPrimitives.Subtract(x, mu, x);
                    for (int a = 0; a < hd; a++)
                    {
                        TensorPrimitives.MultiplyAdd(x, x[a] / w, cov.AsSpan(a * hd, hd), cov.AsSpan(a * hd, hd));
                    }
                }
            }

            // The average future rotation R: μ ← Rμ, Σ ← RΣRᵀ
            Rotate(mu, cos, sin, c.Architecture.Rope);
            if (Covariance)
            {
                for (int a = 0; a < hd; a++)
                {
                    Rotate(cov.AsSpan(a * hd, hd), cos, sin, c.Architecture.Rope); // rows: ΣRᵀ
                }
                var column = new float[hd];
                for (int b = 0; b < hd; b++)
                {
                    for (int a = 0; a < hd; a++) column[a] = cov[a * hd + b];
                    Rotate(column, cos, sin, c.Architecture.Rope);
                    for (int a = 0; a < hd; a++) cov[a * hd + b] = column[a];
                }
            }

            // Onto the stored key channels (ThinK), then the expected scores and their softmax
            head.ProjectQuery(mu, muKept);
            ReadOnlySpan<int> ch = head.KeyChannels;
            for (int a = 0; a < kd; a++)
            {
                for (int b = 0; b < kd; b++)
                {
                    covKept[a * kd + b] = cov[(ch.IsEmpty ? a : ch[a]) * hd + (ch.IsEmpty ? b : ch[b])];
                }
            }
            for (int j = sinks; j < n; j++)
            {
                ReadOnlySpan<float> k = keys.AsSpan(j * kd, kd);
                float s = TensorPrimitives.Dot(muKept, k) / MathF.Sqrt(hd);
                if (Covariance)
                {
                    for (int a = 0; a < kd; a++)
                    {
                        sigmaK[a] = TensorPrimitives.Dot(covKept.AsSpan(a * kd, kd), k);
                    }
                    s += 0.5f * TensorPrimitives.Dot(k, sigmaK) / hd;
                }
                z[j] = s;
            }
            DenseAttention.Softmax(z.AsSpan(sinks, n - sinks), 1f);
            TensorPrimitives.Add(expected.AsSpan(sinks), z.AsSpan(sinks, n - sinks), expected.AsSpan(sinks));
        }

        scores[..sinks].Fill(float.PositiveInfinity);
        for (int j = sinks; j < n; j++)
        {
            float e = expected[j] / group;
            scores[j] = ValueNorm ? (e + Epsilon) * valueNorm[j] : e;
        }
    }

    /// <summary>Mean cos and sin of each RoPE frequency over the next <see cref="Future"/> positions.</summary>
    private (float[] Cos, float[] Sin) MeanRotation(KvPressContext context)
    {
        ModelConfig c = context.Config;
        int pairs = c.RopeDimensions / 2, future = Math.Max(1, Future);
        var cos = new float[pairs];
        var sin = new float[pairs];
        var angles = new float[c.RopeDimensions];
        for (int p = context.Position; p < context.Position + future; p++)
        {
            Rope.Angles(p, c.RopeDimensions, c.RopeFreqBase, c.RopeFreqScale, context.RopeFreqFactors.Span, angles);
            for (int i = 0; i < pairs; i++)
            {
                cos[i] += angles[2 * i] / future;
                sin[i] += angles[2 * i + 1] / future;
            }
        }
        return (cos, sin);
    }

    /// <summary>Applies the averaged rotation to one head-sized vector (RoPE's pairing).</summary>
    private static void Rotate(Span<float> x, float[] cos, float[] sin, RopeStyle style)
    {
        int half = cos.Length;
        for (int i = 0; i < half; i++)
        {
            int a = style == RopeStyle.NeoX ? i : 2 * i, b = style == RopeStyle.NeoX ? i + half : 2 * i + 1;
            float xa = x[a], xb = x[b];
            x[a] = cos[i] * xa - sin[i] * xb;
            x[b] = sin[i] * xa + cos[i] * xb;
        }
    }
}
