using LongCtx.Attention;
using LongCtx.Tensors;

namespace LongCtx.Models;

/// <summary>
/// Scratch buffers of one session's forward pass, allocated once for the largest batch so that
/// the forward pass itself allocates nothing.
/// </summary>
internal sealed class ForwardState
{
    public ForwardState(ModelConfig c, int maxBatch)
    {
        MaxBatch = maxBatch;
        int d = c.EmbeddingLength;
        X = new float[maxBatch * d];
        Xb = new float[maxBatch * d];
        Q = new float[maxBatch * c.HeadCount * c.HeadDim];
        K = new float[maxBatch * c.HeadCountKv * c.HeadDim];
        V = new float[maxBatch * c.HeadCountKv * c.ValueHeadDim];
        Att = new float[maxBatch * c.HeadCount * c.ValueHeadDim];
        Gate = new float[maxBatch * c.FeedForwardLength];
        Up = new float[maxBatch * c.FeedForwardLength];
        RopeCache = new float[maxBatch * c.RopeDimensions];
        Logits = new float[c.VocabSize];
        BatchKv = new BatchKv[c.HeadCountKv];
        for (int i = 0; i < BatchKv.Length; i++)
        {
            BatchKv[i] = new BatchKv();
        }
    }

    public int MaxBatch { get; }
    /// <summary>Residual stream [n, d].</summary>
    public float[] X { get; }
    /// <summary>Normalized input of a sub-layer [n, d].</summary>
    public float[] Xb { get; }
    /// <summary>Queries [n, n_head·hd].</summary>
    public float[] Q { get; }
    /// <summary>Keys of the batch [n, n_kv·hd].</summary>
    public float[] K { get; }
    /// <summary>Values of the batch [n, n_kv·hd_v].</summary>
    public float[] V { get; }
    /// <summary>Attention output [n, n_head·hd_v].</summary>
    public float[] Att { get; }
    /// <summary>Feed-forward gate, then SwiGLU output [n, ffn].</summary>
    public float[] Gate { get; }
    /// <summary>Feed-forward up [n, ffn].</summary>
    public float[] Up { get; }
    /// <summary>cos/sin per token [n, n_rot].</summary>
    public float[] RopeCache { get; }
    /// <summary>Logits of the last token [vocab].</summary>
    public float[] Logits { get; }
    /// <summary>Each KV head widened once per batched attention (see <see cref="TiledAttention.Batch"/>).</summary>
    public BatchKv[] BatchKv { get; }
    /// <summary>Quantized-activation scratch of the matrix products.</summary>
    public MatMulScratch MatMul { get; } = new();
}
