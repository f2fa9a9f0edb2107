using LongCtx.Cli;
using LongCtx.Models;
using LongCtx.Server;
using LongCtx.Tensors;

namespace LongCtx.Tests.Server;

/// <summary>
/// The bounded load run (<c>longctx serve-load</c>) on a random-weight tiny model: every request
/// answered, every sequence gone and the KV bytes back to the baseline afterwards.
/// </summary>
public sealed class ServeLoadTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Fact]
    public async Task AShortRunAnswersEveryRequestAndReturnsTheKv()
    {
        ServeLoadReport report = await ServeLoad.RunAsync(Options(clients: 4, seconds: 1) with { PromptChars = 90, MaxTokens = 8 });
        AssertPassed(report);
    }

    /// <summary>The acceptance run: 16 concurrent clients for 60 s.</summary>
    [Fact, Trait("Category", "Slow")]
    public async Task SixteenClientsForAMinute()
    {
        ServeLoadReport report = await ServeLoad.RunAsync(Options(clients: 16, seconds: 60));
        AssertPassed(report);
        Assert.True(report.CachedTokens > 0, "the shared system prompts hit the prefix cache");
    }

    private ServeLoadOptions Options(int clients, int seconds)
    {
        string path = _dir.File("tiny-qwen2.gguf");
        SyntheticModel.Write(path, new SyntheticShape { Architecture = "qwen2" }, GgmlType.Q8_0);
        return new ServeLoadOptions
        {
            ModelPath = path,
            Clients = clients,
            Duration = TimeSpan.FromSeconds(seconds),
            MaxTokens = 16,
            Server = new ServerOptions { Parallel = 4, ContextSize = 1024, Threads = 1, PrefixCacheBytes = 8L << 20 },
        };
    }

    private static void AssertPassed(ServeLoadReport r)
    {
        var text = new StringWriter();
        ServeLoad.Print(r, text);
        Assert.True(r.Requests > 0 && r.Failed == 0, text.ToString());
        Assert.True(r.ActiveAfter == 0 && r.KvBytesAfter == r.KvBytesBefore, text.ToString());
        Assert.True(r.PrefixCacheBytes <= r.PrefixCacheBudget, text.ToString());
        Assert.True(r.Passed, text.ToString());
    }

    public void Dispose() => _dir.Dispose();
}
