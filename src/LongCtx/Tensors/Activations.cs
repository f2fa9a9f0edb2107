namespace LongCtx.Tensors;

/// <summary>Element-wise activations of the feed-forward.</summary>
public static class Activations
{
    /// <summary>SwiGLU in place: gate[i] = silu(gate[i]) · up[i], with silu(x) = x / (1 + e^-x).</summary>
    public static void SwiGlu(Span<float> gate, ReadOnlySpan<float> up)
    {
        for (int i = 0; i < gate.Length; i++)
        {
            float g = gate[i];
            gate[i] = g / (1f + MathF.Exp(-g)) * up[i];
        }
    }
}
