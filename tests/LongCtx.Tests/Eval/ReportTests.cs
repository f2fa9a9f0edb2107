using System.Buffers.Binary;
using LongCtx.Eval.Reports;
using LongCtx.Eval.Running;

namespace LongCtx.Tests.Eval;

/// <summary>Reports from a small results file: markdown numbers, every plot type as a PNG, one HTML page.</summary>
public sealed class ReportTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly string[] Methods = ["full", "snapkv:ratio=0.5", "snapkv:ratio=0.75", "knorm:ratio=0.5"];

    /// <summary>A results file: niah_single_1 and vt at 1k/2k/4k, and a 3-depth needle grid, under four methods, 2 samples each.</summary>
    internal static string WriteResults(string path)
    {
        var tasks = new (string Task, double? Depth)[] { ("niah_single_1", null), ("vt", null), ("niah_depth_0", 0), ("niah_depth_50", 50), ("niah_depth_100", 100) };
        foreach (string method in Methods)
        {
            double keep = method == "full" ? 1 : 1 - double.Parse(method[(method.IndexOf('=') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            foreach (int length in new[] { 1024, 2048, 4096 })
            {
                foreach (var (task, depth) in tasks)
                {
                    for (int sample = 0; sample < 2; sample++)
                    {
                        // Scores fall with compression, length and (for the grid) middle depths.
                        double score = method == "full" ? 1 : sample == 0 && (length == 1024 || depth is 0 or 100) ? 1 : 0;
                        if (task == "vt")
                        {
                            score = sample == 0 ? 0.8 : 0.4;
                        }
                        ResultsFile.Append(path, new EvalRecord
                        {
                            Suite = "test", Model = "tiny.gguf", Method = method, Task = task, Length = length, Sample = sample, Seed = 1,
                            Depth = depth, Metric = "string_match_all", Score = score, Answers = ["1234567"], Prediction = "1234567",
                            PromptTokens = length - 128, GeneratedTokens = 8, PrefillTokensPerSecond = 500, DecodeTokensPerSecond = 20 / keep,
                            KvBytes = (long)(length * 1024 * keep),
                        });
                    }
                }
            }
        }
        return path;
    }

    private static (int Width, int Height) PngSize(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], b[..4]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(b, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(20)));
    }

    [Fact]
    public void Every_plot_type_renders_to_a_png_of_its_size()
    {
        string results = WriteResults(_dir.File("results.jsonl"));
        ReportFiles files = ReportWriter.Write(results, _dir.File("report"));

        var heatmaps = files.Plots.Where(p => Path.GetFileName(p).StartsWith("needle_heatmap_", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, heatmaps.Count);
        foreach (string h in heatmaps)
        {
            Assert.True(new FileInfo(h).Length > 10_000, $"{h} is {new FileInfo(h).Length} bytes");
            Assert.Equal((Plots.HeatmapWidth, Plots.HeatmapHeight), PngSize(h));
        }
        string kv = Assert.Single(files.Plots, p => Path.GetFileName(p) == "score_vs_kv_tiny.gguf.png");
        Assert.True(new FileInfo(kv).Length > 10_000);
        Assert.Equal((Plots.KvWidth, Plots.KvHeight), PngSize(kv));
        string bars = Assert.Single(files.Plots, p => Path.GetFileName(p) == "task_bars_tiny.gguf.png");
        Assert.True(new FileInfo(bars).Length > 10_000);
        (int width, int height) = PngSize(bars);
        Assert.Equal(Plots.BarsHeight, height);
        Assert.True(width >= 800);

        string html = File.ReadAllText(files.Html);
        Assert.Equal(files.Plots.Count, html.Split("data:image/png;base64,").Length - 1);
        Assert.Contains("<h2>tiny.gguf — snapkv:ratio=0.5</h2>", html);
    }

    [Fact]
    public void Markdown_tables_hold_the_mean_scores()
    {
        string results = WriteResults(_dir.File("results.jsonl"));
        string md = File.ReadAllText(ReportWriter.Write(results, _dir.File("report")).Markdown);
        Assert.Contains("## tiny.gguf — full", md);
        Assert.Contains("| task | 1k | 2k | 4k | avg |", md);
        Assert.Contains("| niah_single_1 | 100.0 | 100.0 | 100.0 | 100.0 |", md);
        // vt: samples score 0.8 and 0.4 -> 60 everywhere.
        Assert.Contains("| vt | 60.0 | 60.0 | 60.0 | 60.0 |", md);
        // snapkv 0.5: niah_single_1 is 50 at 1k (one of two samples), 0 after.
        Assert.Contains("| niah_single_1 | 50.0 | 0.0 | 0.0 | 16.7 |", md);
        Assert.Contains("| niah_depth_100 | 50.0 | 50.0 | 50.0 | 50.0 |", md);
        // Speed and memory: KV bytes at 4k under the full cache = 4096 KiB = 4 MiB.
        Assert.Contains("| tiny.gguf | full | 4k | 92.0 | 500.0 | 20.0 | 4.00 | 10 |", md);
        Assert.Contains("![Score vs KV cache — tiny.gguf](plots/score_vs_kv_tiny.gguf.png)", md);
    }

    [Fact]
    public void Table_groups_methods_and_families()
    {
        var table = new ResultTable(ResultsFile.Load(WriteResults(_dir.File("results.jsonl"))));
        Assert.Equal(Methods, table.Methods);
        Assert.Equal([1024, 2048, 4096], table.Lengths);
        Assert.Equal([0.0, 50, 100], table.Depths);
        Assert.Equal(100.0, table.DepthCell("tiny.gguf", "full", 50, 2048));
        Assert.Equal(0.0, table.DepthCell("tiny.gguf", "knorm:ratio=0.5", 50, 2048));
        Assert.Null(table.Cell("tiny.gguf", "full", "nope", 1024));
        Assert.Equal("snapkv", Plots.Family("snapkv:ratio=0.5"));
        Assert.Equal("full", Plots.Family("full"));
    }
}
