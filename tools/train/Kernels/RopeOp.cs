using LongCtx.Tensors;

namespace LongCtx.Train.Kernels;

/// <summary>
/// Rotary position embedding on adjacent pairs (2i, 2i+1), llama.cpp's LLAMA_ROPE_TYPE_NORM used
/// by the <c>llama</c> architecture, with the angles LongCtx's <see cref="Rope.Angles"/> computes
/// (θ built by repeated float multiplication, as ggml). The backward rotates by −θ.
/// </summary>
internal static unsafe class RopeOp
{
    /// <summary>cos/sin table [T, hd] (interleaved per pair) for positions 0..T−1.</summary>
    public static float[] Table(int length, int headDim, float freqBase)
    {
        var table = new float[length * headDim];
        for (int p = 0; p < length; p++)
        {
            Rope.Angles(p, headDim, freqBase, 1f, [], table.AsSpan(p * headDim, headDim));
        }
        return table;
    }

    /// <summary>Rotates every head of each row of <paramref name="x"/> [B·T, heads·hd] in place; row n is at position n mod T.</summary>
    public static void Apply(Span<float> x, int width, int headDim, int length, ReadOnlySpan<float> table, bool inverse, WorkerPool pool)
    {
        int rows = x.Length / width;
        if (table.Length < length * headDim) throw new ArgumentException("RoPE table too short for the sequence length");
        long t0 = Profile.Start();
        fixed (float* px = x, pt = table)
        {
            pool.For(rows, new Work { X = px, Table = pt, Width = width, HeadDim = headDim, Length = length, Sign = inverse ? -1f : 1f });
        }
        Profile.Stop(Profile.Elementwise, t0);
    }

    private struct Work : IParallelWork
    {
        public float* X, Table;
        public int Width, HeadDim, Length;
        public float Sign;

        public readonly void Execute(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                float* cs = Table + (long)(r % Length) * HeadDim;
                float* row = X + (long)r * Width;
                for (int h = 0; h < Width; h += HeadDim)
                {
                    float* x = row + h;
                    for (int i = 0; i < HeadDim; i += 2)
                    {
                        float c = cs[i], s = Sign * cs[i + 1];
                        float x0 = x[i], x1 = x[i + 1];
                        x[i] = x0 * c - x1 * s;
                        x[i + 1] = x0 * s + x1 * c;
                    }
                }
            }
        }
    }
}
