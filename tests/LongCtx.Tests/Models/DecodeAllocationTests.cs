using LongCtx.Generation;
using LongCtx.Models;
using LongCtx.Tensors;

namespace LongCtx.Tests.Models;

/// <summary>Decode allocates nothing on the managed heap once warm: not on the calling thread, not on the pool's workers.</summary>
public sealed class DecodeAllocationTests(TempDirFixture dir) : IClassFixture<TempDirFixture>
{
    [Theory]
    [InlineData("qwen2", "q8_0")]
    [InlineData("llama", "q4_0")]
    [InlineData("qwen3", "q4_K")]
    public void DecodeLoopAllocatesNothing(string arch, string type)
    {
        string path = Path.Combine(dir.Path, $"alloc-{arch}-{type}.gguf");
        SyntheticModel.Write(path, new SyntheticShape { Architecture = arch }, GgmlTypeInfo.Parse(type), seed: 5);
        using Model model = Model.Load(path, new ModelOptions { Threads = 2 });
        var session = new Session(model, new SessionOptions { ContextSize = 256 });
        int[] prompt = [1, 2, 3, 4, 5, 6, 7, 8];

        // Warm-up: JIT tiers, scratch buffers, pool slots, and the KV stores grown to the context
        // size (they grow in steps, and a cache that grows allocates by design).
        for (int round = 0; round < 2; round++)
        {
            session.Reset();
            session.Prefill(prompt);
            for (int i = 0; i < 240; i++) session.Decode(i % 250);
        }
        session.Reset();
        session.Prefill(prompt);
        for (int i = 0; i < 200; i++) session.Decode(i % 250);

        long caller = GC.GetAllocatedBytesForCurrentThread(), workers = model.Pool.WorkerAllocatedBytes;
        for (int i = 0; i < 40; i++) session.Decode((i * 7) % 250);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - caller);
        Assert.Equal(0, model.Pool.WorkerAllocatedBytes - workers);
    }
}
