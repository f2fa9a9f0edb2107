namespace LongCtx.Train.Model;

/// <summary>
/// What the forward pass keeps for the backward pass, and the backward's scratch, for N = B·T
/// tokens: allocated once per size and reused every step (nothing is allocated per step).
/// Attention keeps only its output and log-sum-exp; its scores are recomputed in tiles.
/// </summary>
internal sealed class Activations
{
    public Activations(ModelShape s, int tokens)
    {
        Tokens = tokens;
        int n = tokens, d = s.Dim, nq = s.Heads * s.HeadDim, nkv = s.KvHeads * s.HeadDim, f = s.Ffn, layers = s.Layers;
        X = Alloc(layers + 1, n * d);
        H1 = Alloc(layers, n * d);
        Rstd1 = Alloc(layers, n);
        Q = Alloc(layers, n * nq);
        K = Alloc(layers, n * nkv);
        V = Alloc(layers, n * nkv);
        O = Alloc(layers, n * nq);
        Lse = Alloc(layers, n * s.Heads);
        XMid = Alloc(layers, n * d);
        H2 = Alloc(layers, n * d);
        Rstd2 = Alloc(layers, n);
        Gate = Alloc(layers, n * f);
        Up = Alloc(layers, n * f);
        Act = new float[n * f];
        DAct = new float[n * f];
        DGate = new float[n * f];
        DUp = new float[n * f];
        DX = new float[n * d];
        DH = new float[n * d];
        DQ = new float[n * nq];
        DK = new float[n * nkv];
        DV = new float[n * nkv];
        DO = new float[n * nq];
        HeadX = new float[n * d];
        HeadH = new float[n * d];
        HeadDH = new float[n * d];
        HeadRstd = new float[n];
        HeadRows = new int[n];
        HeadTargets = new int[n];
        HeadScale = new float[n];
        HeadLoss = new float[n];
        HeadHit = new bool[n];
        Logits = new float[HeadChunk * s.Vocab];
    }

    /// <summary>Rows of logits computed at once: bounds the logits buffer to HeadChunk × vocab.</summary>
    public const int HeadChunk = 512;

    public int Tokens { get; }
    /// <summary>X[l] is the residual stream entering block l; X[layers] leaves the last block.</summary>
    public float[][] X { get; }
    public float[][] H1 { get; }
    public float[][] Rstd1 { get; }
    public float[][] Q { get; }
    public float[][] K { get; }
    public float[][] V { get; }
    public float[][] O { get; }
    public float[][] Lse { get; }
    public float[][] XMid { get; }
    public float[][] H2 { get; }
    public float[][] Rstd2 { get; }
    public float[][] Gate { get; }
    public float[][] Up { get; }
    public float[] Act { get; }
    public float[] DAct { get; }
    public float[] DGate { get; }
    public float[] DUp { get; }
    public float[] DX { get; }
    public float[] DH { get; }
    public float[] DQ { get; }
    public float[] DK { get; }
    public float[] DV { get; }
    public float[] DO { get; }
    /// <summary>The rows that carry loss, gathered: final residual, normalized, its gradient, 1/rms.</summary>
    public float[] HeadX { get; }
    public float[] HeadH { get; }
    public float[] HeadDH { get; }
    public float[] HeadRstd { get; }
    public int[] HeadRows { get; }
    public int[] HeadTargets { get; }
    public float[] HeadScale { get; }
    public float[] HeadLoss { get; }
    public bool[] HeadHit { get; }
    public float[] Logits { get; }

    private static float[][] Alloc(int count, int length)
    {
        var a = new float[count][];
        for (int i = 0; i < count; i++) a[i] = new float[length];
        return a;
    }
}
