using System.Numerics.Tensors;

namespace LongCtx.KvCache.Presses;

/// <summary>
/// KNorm: keep the keys of smallest L2 norm, which tend to draw the most attention.
/// "A Simple and Effective L2 Norm-Based Strategy for KV Cache Compression", arXiv:2406.11430.
/// </summary>
public sealed class KnormPress : ScorerPress
{
    /// <inheritdoc/>
    protected internal override void Score(KvPressContext context, int layer, int kvHead, int keep, Span<float> scores)
    {
        KvHeadView head = context.Cache.Head(layer, kvHead);
        Span<float> key = stackalloc float[head.KeyDim];
        for (int j = 0; j < scores.Length; j++)
        {
            head.ReadKey(j, key);
            scores[j] = -TensorPrimitives.Norm(key);
        }
    }
}
