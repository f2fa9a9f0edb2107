using System.Diagnostics;
using LongCtx.Tensors;
using LongCtx.Train.Kernels;
using LongCtx.Train.Model;
using LongCtx.Train.Optim;

namespace LongCtx.Train;

/// <summary>Speed measurements of the trainer's kernels and steps (noisy on a shared machine).</summary>
internal static class Bench
{
    public static void GemmSpeed(int threads)
    {
        using var pool = new WorkerPool(threads);
        Console.WriteLine($"threads {threads}, AVX-512 kernel {Cpu.Simd}, Vector512 accelerated {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}");
        var rng = new Random(1);
        foreach (var (m, n, k, ta, tb, name) in new (int, int, int, bool, bool, string)[]
        {
            (8192, 256, 256, false, true, "fwd X·Wᵀ 8192×256×256"),
            (8192, 704, 256, false, true, "fwd X·Wᵀ 8192×704×256"),
            (8192, 256, 704, false, false, "bwd dY·W 8192×256×704"),
            (256, 256, 8192, true, false, "dW dYᵀ·X 256×256×8192"),
            (64, 256, 8192, true, false, "dW dYᵀ·X 64×256×8192"),
            (1024, 4096, 256, false, true, "logits 1024×4096×256"),
        })
        {
            float[] a = Random(rng, ta ? k * m : m * k), b = Random(rng, tb ? n * k : k * n), c = new float[m * n];
            int lda = ta ? m : k, ldb = tb ? k : n;
            Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, n, false, pool);
            var (wall, cpu, reps) = Time(() => Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, n, false, pool));
            double flop = 2.0 * m * n * k * reps / 1e9;
            Console.WriteLine($"{name,-28} {flop / wall,7:F1} GFLOPS wall, {flop / cpu * threads,7:F1} per {threads} CPU-seconds");
        }
    }

    /// <summary>
    /// Tokens per second of forward + backward + AdamW step for a model shape at B×T tokens per
    /// step, loss on every token. Prints wall-clock and CPU-time rates (the machine is shared).
    /// </summary>
    public static void StepSpeed(ModelShape shape, int sequences, int length, int threads, double seconds)
    {
        using var pool = new WorkerPool(threads);
        var model = new TrainModel(shape, pool);
        model.Initialize(1);
        var opt = new AdamW(model.Layout, new AdamWOptions());
        var batch = new Batch(sequences, length);
        var rng = new SplitMix(7);
        for (int i = 0; i < batch.Count; i++)
        {
            batch.Tokens[i] = rng.Next(shape.Vocab);
            batch.Targets[i] = rng.Next(shape.Vocab);
            batch.Weights[i] = 1;
        }
        void Step()
        {
            model.ForwardBackward(batch);
            opt.Update(model.Params, model.Grads, 1e-4f, pool);
        }
        Step();
        Profile.Reset();
        Profile.Enabled = true;
        var (wall, cpu, reps) = Time(Step, seconds);
        Profile.Enabled = false;
        double tokens = (double)batch.Count * reps;
        Console.WriteLine($"{shape.Layers} layer(s) d {shape.Dim} vocab {shape.Vocab} ({model.Layout.Count / 1e6:F2} M params), {sequences}×{length}: " +
            $"{tokens / wall,7:F0} tokens/s wall, {tokens / cpu * threads,7:F0} per {threads} CPU-seconds ({reps} steps, {wall / reps:F2} s/step)");
        int passes = Math.Min(threads, sequences);
        Console.WriteLine($"  share of {passes} pass thread(s)' time: " + Profile.Report(wall * passes));
    }

    /// <summary>Runs <paramref name="action"/> for about 1.5 s; returns wall seconds, process CPU seconds and repetitions.</summary>
    internal static (double Wall, double Cpu, int Reps) Time(Action action, double seconds = 1.5)
    {
        var process = System.Diagnostics.Process.GetCurrentProcess();
        TimeSpan cpu0 = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        int reps = 0;
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            action();
            reps++;
        }
        double wall = sw.Elapsed.TotalSeconds;
        process.Refresh();
        return (wall, (process.TotalProcessorTime - cpu0).TotalSeconds, reps);
    }

    /// <summary>GFLOPS of the tiled attention forward and backward (causal FLOPs: half the square).</summary>
    public static void AttentionSpeed(int threads, int length, int sequences)
    {
        using var pool = new WorkerPool(threads);
        var rng = new Random(2);
        var s = new AttentionShape(sequences, length, 8, 2, 32);
        int n = sequences * length;
        float[] q = Random(rng, n * s.QWidth), k = Random(rng, n * s.KvWidth), v = Random(rng, n * s.KvWidth), dout = Random(rng, n * s.QWidth);
        float[] o = new float[q.Length], lse = new float[n * s.Heads], dq = new float[q.Length], dk = new float[k.Length], dv = new float[v.Length];
        // Useful FLOPs of one causal matmul over all heads: 2·hd per (query, key ≤ query) pair.
        double matmul = 2.0 * s.HeadDim * s.Heads * sequences * length * (length + 1) / 2 / 1e9;
        var (wall, cpu, reps) = Time(() => TiledAttention.Forward(s, q, k, v, o, lse, pool));
        Console.WriteLine($"attention forward  T={length}: {2 * matmul * reps / wall,6:F1} GFLOPS wall, {2 * matmul * reps / cpu * threads,6:F1} per {threads} CPU-s");
        (wall, cpu, reps) = Time(() => TiledAttention.Backward(s, q, k, v, o, lse, dout, dq, dk, dv, pool));
        Console.WriteLine($"attention backward T={length}: {5 * matmul * reps / wall,6:F1} GFLOPS wall, {5 * matmul * reps / cpu * threads,6:F1} per {threads} CPU-s");
    }

    /// <summary>GFLOPS of the attention tile products alone.</summary>
    public static unsafe void TileSpeed()
    {
        var rng = new Random(3);
        float[] a = Random(rng, 64 * 2048), b = Random(rng, 64 * 2048), c = new float[64 * 2048];
        foreach (var (rows, width, depth, ars, aps, ldb, name) in new (int, int, int, int, int, int, string)[]
        {
            (64, 512, 32, 32, 1, 512, "S = Q·Kᵀ 64×512×32"),
            (64, 512, 32, 32, 1, 528, "S, padded ldb 528"),
            (64, 32, 512, 512, 1, 32, "O = P·V 64×32×512"),
            (512, 32, 64, 1, 512, 32, "dV += Pᵀ·dO 512×32×64"),
        })
        {
            fixed (float* pa = a, pb = b, pc = c)
            {
                float* x = pa, y = pb, z = pc;
                var (wall, cpu, reps) = Time(() => TileGemm.Multiply(rows, width, depth, x, ars, aps, y, ldb, z, width, false), 1);
                double flop = 2.0 * rows * width * depth * reps / 1e9;
                Console.WriteLine($"{name,-24} {flop / wall,7:F1} GFLOPS wall, {flop / cpu,7:F1} per CPU-second");
            }
        }
        fixed (float* pa = a)
        {
            float* x = pa;
            var (wall, cpu, reps) = Time(() => { for (int r = 0; r < 64; r++) Softmax.ExpShift(x + r * 512, 512, 1f); }, 1);
            Console.WriteLine($"exp 64×512: {64 * 512.0 * reps / cpu / 1e9:F2} G exp per CPU-second");
        }
    }

    private static float[] Random(Random rng, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
