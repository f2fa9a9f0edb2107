namespace LongCtx.Train.Kernels;

/// <summary>
/// Causal attention with the full score matrix, in double: the readable specification that
/// <see cref="TiledAttention"/> is tested against (same layouts).
/// </summary>
internal static class AttentionReference
{
    public static void Forward(AttentionShape s, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> o, Span<float> lse)
    {
        int t = s.Length, hd = s.HeadDim;
        var p = new double[t];
        for (int b = 0; b < s.Batch; b++)
        {
            for (int h = 0; h < s.Heads; h++)
            {
                int g = h / s.Group;
                for (int i = 0; i < t; i++)
                {
                    int qi = ((b * t) + i) * s.QWidth + h * hd;
                    double max = double.NegativeInfinity;
                    for (int j = 0; j <= i; j++)
                    {
                        int kj = ((b * t) + j) * s.KvWidth + g * hd;
                        double dot = 0;
                        for (int c = 0; c < hd; c++) dot += (double)q[qi + c] * k[kj + c];
                        p[j] = dot * s.Scale;
                        max = Math.Max(max, p[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) sum += p[j] = Math.Exp(p[j] - max);
                    for (int c = 0; c < hd; c++)
                    {
                        double acc = 0;
                        for (int j = 0; j <= i; j++) acc += p[j] * v[((b * t) + j) * s.KvWidth + g * hd + c];
                        o[qi + c] = (float)(acc / sum);
                    }
                    lse[(b * s.Heads + h) * t + i] = (float)(max + Math.Log(sum));
                }
            }
        }
    }

    public static void Backward(AttentionShape s, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> dout,
        Span<float> dq, Span<float> dk, Span<float> dv)
    {
        int t = s.Length, hd = s.HeadDim;
        var p = new double[t];
        var dp = new double[t];
        var gq = new double[dq.Length];
        var gk = new double[dk.Length];
        var gv = new double[dv.Length];
        for (int b = 0; b < s.Batch; b++)
        {
            for (int h = 0; h < s.Heads; h++)
            {
                int g = h / s.Group;
                for (int i = 0; i < t; i++)
                {
                    int qi = ((b * t) + i) * s.QWidth + h * hd;
                    double max = double.NegativeInfinity;
                    for (int j = 0; j <= i; j++)
                    {
                        int kj = ((b * t) + j) * s.KvWidth + g * hd;
                        double dot = 0;
                        for (int c = 0; c < hd; c++) dot += (double)q[qi + c] * k[kj + c];
                        p[j] = dot * s.Scale;
                        max = Math.Max(max, p[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) sum += p[j] = Math.Exp(p[j] - max);
                    double pdp = 0;
                    for (int j = 0; j <= i; j++)
                    {
                        p[j] /= sum;
                        int vj = ((b * t) + j) * s.KvWidth + g * hd;
                        double d = 0;
                        for (int c = 0; c < hd; c++) d += (double)dout[qi + c] * v[vj + c];
                        dp[j] = d;
                        pdp += p[j] * d;
                    }
                    for (int j = 0; j <= i; j++)
                    {
                        int kj = ((b * t) + j) * s.KvWidth + g * hd;
                        double ds = p[j] * (dp[j] - pdp) * s.Scale;
                        for (int c = 0; c < hd; c++)
                        {
                            gq[qi + c] += ds * k[kj + c];
                            gk[kj + c] += ds * q[qi + c];
                            gv[kj + c] += p[j] * dout[qi + c];
                        }
                    }
                }
            }
        }
        for (int i = 0; i < dq.Length; i++) dq[i] = (float)gq[i];
        for (int i = 0; i < dk.Length; i++) dk[i] = (float)gk[i];
        for (int i = 0; i < dv.Length; i++) dv[i] = (float)gv[i];
    }
}
