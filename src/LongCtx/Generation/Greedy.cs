namespace LongCtx.Generation;

/// <summary>Greedy token choice.</summary>
public static class Greedy
{
    /// <summary>Index of the largest logit; the lowest index wins ties (as llama.cpp's greedy sampler).</summary>
    public static int Argmax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }
        return best;
    }
}
