using System.ClientModel;
using System.Text;
using System.Text.Json;
using LongCtx.Server;
using LongCtx.Tests.Reference;
using OpenAI;
using OpenAI.Chat;

namespace LongCtx.Tests.Server;

/// <summary>
/// Two servers over the tiny model with a context for long prompts: one with the prefix cache, one
/// without (the fresh-prefill reference). Prefill chunks of 64 tokens, blocks of 16.
/// </summary>
public sealed class PrefixServersFixture : IAsyncLifetime
{
    public const int BlockTokens = 16;
    private readonly TempDir _dir = new();

    public LongCtxServer Cached { get; private set; } = null!;
    public LongCtxServer Fresh { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        string path = TinyLlamaFile.Write(_dir.File("tiny-prefix.gguf"));
        var options = new ServerOptions
        {
            ModelPath = path, Port = 0, ContextSize = 4096, Parallel = 4, PrefillChunk = 64, Threads = 1,
            PrefixBlockTokens = BlockTokens, RequestTimeout = TimeSpan.FromSeconds(120),
        };
        Cached = await LongCtxServer.StartAsync(options);
        Fresh = await LongCtxServer.StartAsync(options with { PrefixCacheBytes = 0 });
    }

    public async Task DisposeAsync()
    {
        await Cached.DisposeAsync();
        await Fresh.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>The prefix cache: a shared 2K-token prefix is prefilled once, and reuse changes no answer.</summary>
public sealed class PrefixCacheTests(PrefixServersFixture servers) : IClassFixture<PrefixServersFixture>
{
    /// <summary>About 2,300 tokens (the tiny vocabulary is nearly one token per byte).</summary>
    private static readonly string Document = Text(seed: 1, chars: 2300);

    [Fact]
    public async Task ASecondRequestSharingA2KPrefixPrefillsOnlyItsNewTokens()
    {
        using HttpClient http = Client(servers.Cached);
        string first = Document + "\nQuestion: what is the first word?", second = Document + "\nQuestion: name the last one.";
        int[] a = await TokenizeAsync(http, first), b = await TokenizeAsync(http, second);
        int shared = a.Zip(b).TakeWhile(p => p.First == p.Second).Count();
        Assert.True(shared >= 2048, $"the prompts share {shared} tokens");
        int reusable = shared / PrefixServersFixture.BlockTokens * PrefixServersFixture.BlockTokens;

        JsonElement one = await CompleteAsync(http, first);
        Assert.Equal(0, one.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(a.Length, one.GetProperty("longctx").GetProperty("prefilled_tokens").GetInt32());

        double prefilledBefore = await MetricAsync(http, "longctx_prompt_tokens_total");
        double hitsBefore = await MetricAsync(http, "longctx_prefix_cache_hits_total");
        double hitTokensBefore = await MetricAsync(http, "longctx_prefix_cache_hit_tokens_total");
        JsonElement two = await CompleteAsync(http, second);
        Assert.Equal(b.Length, two.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(reusable, two.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(b.Length - reusable, two.GetProperty("longctx").GetProperty("prefilled_tokens").GetInt32());

        // /metrics tells the same story: one hit, `reusable` tokens served, only the new ones prefilled.
        Assert.Equal(b.Length - reusable, await MetricAsync(http, "longctx_prompt_tokens_total") - prefilledBefore);
        Assert.Equal(1, await MetricAsync(http, "longctx_prefix_cache_hits_total") - hitsBefore);
        Assert.Equal(reusable, await MetricAsync(http, "longctx_prefix_cache_hit_tokens_total") - hitTokensBefore);
        Assert.InRange(await MetricAsync(http, "longctx_prefix_cache_hit_rate"), 0.01, 1);
        Assert.True(await MetricAsync(http, "longctx_prefix_cache_bytes") > 0);

        // The answers are the fresh prefill's (greedy, temperature 0).
        using HttpClient fresh = Client(servers.Fresh);
        Assert.Equal(Answer(await CompleteAsync(fresh, first)), Answer(one));
        Assert.Equal(Answer(await CompleteAsync(fresh, second)), Answer(two));
        Assert.Equal(0, await MetricAsync(fresh, "longctx_prefix_cache_hit_tokens_total"));
    }

    [Fact]
    public async Task TheOpenAiClientSeesTheCachedTokensOfAChatWithTheSameSystemPrompt()
    {
        ChatClient Chat(LongCtxServer s) => new(s.ModelId, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(s.Address, "/v1") });
        string system = Text(seed: 2, chars: 2200);
        var options = new ChatCompletionOptions { Temperature = 0f, MaxOutputTokenCount = 12 };
        var texts = new List<string>();
        var cached = new List<int>();
        foreach (string question in new[] { "Summarize it.", "What comes after the third line?", "Summarize it." })
        {
            ChatCompletion c = (await Chat(servers.Cached).CompleteChatAsync([new SystemChatMessage(system), new UserChatMessage(question)], options)).Value;
            ChatCompletion f = (await Chat(servers.Fresh).CompleteChatAsync([new SystemChatMessage(system), new UserChatMessage(question)], options)).Value;
            Assert.Equal(f.Content[0].Text, c.Content[0].Text);
            Assert.Equal(0, f.Usage.InputTokenDetails.CachedTokenCount);
            cached.Add(c.Usage.InputTokenDetails.CachedTokenCount);
            texts.Add(c.Content[0].Text);
        }
        Assert.Equal(0, cached[0]);
        Assert.InRange(cached[1], 2048, int.MaxValue);
        Assert.True(cached[2] > cached[1], "the repeated question reuses its whole prompt but the last block");
        Assert.Equal(texts[0], texts[2]);
    }

    [Fact]
    public async Task APressIsAppliedAndItsCompressedKvStaysOutOfThePrefixCache()
    {
        using HttpClient http = Client(servers.Cached);
        string prompt = Text(seed: 3, chars: 600);
        double blocks = await MetricAsync(http, "longctx_prefix_cache_blocks");
        JsonElement pressed = await CompleteAsync(http, prompt, kv: "snapkv:ratio=0.5,window=16");
        Assert.Equal(blocks, await MetricAsync(http, "longctx_prefix_cache_blocks"));

        // Nothing was cached: the same prompt without a press misses, then holds about twice the entries.
        JsonElement plain = await CompleteAsync(http, prompt);
        Assert.Equal(0, plain.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        long full = plain.GetProperty("longctx").GetProperty("kv_cache_entries").GetInt64();
        long kept = pressed.GetProperty("longctx").GetProperty("kv_cache_entries").GetInt64();
        Assert.InRange(kept, full * 4 / 10, full * 6 / 10);

        // Now cached, the prompt is still prefilled fresh for a press (its observations need every query).
        JsonElement again = await CompleteAsync(http, prompt, kv: "snapkv:ratio=0.5,window=16");
        Assert.Equal(0, again.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(Answer(pressed), Answer(again));
        Assert.Equal(kept, again.GetProperty("longctx").GetProperty("kv_cache_entries").GetInt64());
    }

    private static string Answer(JsonElement completion) => completion.GetProperty("choices")[0].GetProperty("text").GetString()!;

    private static HttpClient Client(LongCtxServer server) => new() { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(120) };

    private static async Task<JsonElement> CompleteAsync(HttpClient http, string prompt, string? kv = null)
    {
        string json = JsonSerializer.Serialize(new Dictionary<string, object?> { ["prompt"] = prompt, ["temperature"] = 0, ["max_tokens"] = 12, ["ignore_eos"] = true, ["kv"] = kv });
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await http.PostAsync("/v1/completions", content);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<int[]> TokenizeAsync(HttpClient http, string text)
    {
        using var content = new StringContent(JsonSerializer.Serialize(new { content = text, add_special = true }), Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await http.PostAsync("/tokenize", content);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
    }

    internal static async Task<double> MetricAsync(HttpClient http, string name)
    {
        foreach (string line in (await http.GetStringAsync("/metrics")).Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        throw new Xunit.Sdk.XunitException($"metric {name} not found");
    }

    /// <summary>Lines of random lower-case words: a long prompt of nearly one token per character.</summary>
    private static string Text(int seed, int chars)
    {
        var rng = new Random(seed);
        var s = new StringBuilder();
        while (s.Length < chars)
        {
            for (int i = rng.Next(2, 9); i > 0; i--)
            {
                s.Append((char)('a' + rng.Next(26)));
            }
            s.Append(rng.Next(12) == 0 ? '\n' : ' ');
        }
        return s.ToString();
    }
}
