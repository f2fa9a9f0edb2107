namespace LongCtx.Train.Model;

/// <summary>
/// B sequences of T tokens, their next-token targets and per-target loss weights (0 = no loss,
/// e.g. on a prompt; 1 on answer tokens). Row n = b·T + t.
/// </summary>
internal sealed class Batch
{
    public Batch(int sequences, int length)
    {
        Sequences = sequences;
        Length = length;
        Tokens = new int[sequences * length];
        Targets = new int[sequences * length];
        Weights = new float[sequences * length];
    }

    public int Sequences { get; }
    public int Length { get; }
    public int[] Tokens { get; }
    public int[] Targets { get; }
    public float[] Weights { get; }
    public int Count => Tokens.Length;
}
