using System.Diagnostics;
using LongCtx.Tensors;
using LongCtx.Train.Kernels;

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

    private static float[] Random(Random rng, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
