using System.Runtime.CompilerServices;

namespace LongCtx.Tensors;

/// <summary>
/// One matrix product as the kernels see it: y[t·Rows + r] = dot(weight row r, activation row t).
/// A kernel computes the outputs of a range of weight rows for every token.
/// </summary>
internal unsafe struct MatMulJob
{
    /// <summary>Weight rows in the file's layout.</summary>
    public byte* W;
    public long RowBytes;
    public int Rows, Cols;
    /// <summary>The activations, converted to the weight type's vec_dot_type.</summary>
    public PackedActivations A;
    /// <summary>Outputs, token-major.</summary>
    public float* Y;
    /// <summary>
    /// Q4_0/Q4_K only: sum in the order of ggml's repacked ("interleaved 8×8") kernels, which
    /// llama.cpp uses on x86 for weights it repacks, instead of the order of its plain vec_dot.
    /// </summary>
    public bool Interleaved;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly byte* Row(int r) => W + r * RowBytes;
}
