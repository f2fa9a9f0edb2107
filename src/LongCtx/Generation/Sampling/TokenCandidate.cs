using System.Runtime.InteropServices;

namespace LongCtx.Generation.Sampling;

/// <summary>One candidate token: its id, its logit and (once a sampler computed it) its probability; <c>llama_token_data</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct TokenCandidate
{
    /// <summary>Token id.</summary>
    public int Id;

    /// <summary>Log-odds, changed in place by the samplers.</summary>
    public float Logit;

    /// <summary>Probability, valid only right after a sampler that computes it (softmax, top-p, dist).</summary>
    public float P;

    /// <summary>Creates a candidate.</summary>
    public TokenCandidate(int id, float logit, float p = 0f)
    {
        Id = id;
        Logit = logit;
        P = p;
    }

    /// <inheritdoc/>
    public override readonly string ToString() => $"{Id}: {Logit} (p={P})";
}
