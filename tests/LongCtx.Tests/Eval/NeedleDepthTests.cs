using LongCtx.Eval.Tasks;

namespace LongCtx.Tests.Eval;

/// <summary>The needle of a depth-controlled sample sits at the requested depth of the context, in tokens.</summary>
public sealed class NeedleDepthTests
{
    private static readonly PieceCounter Counter = new();

    public static TheoryData<HaystackKind, int, double> Grid()
    {
        var data = new TheoryData<HaystackKind, int, double>();
        foreach (HaystackKind kind in new[] { HaystackKind.Essay, HaystackKind.Noise, HaystackKind.Needles })
        {
            foreach (int length in new[] { 2048, 8192 })
            {
                foreach (double depth in new[] { 0.0, 10, 25, 50, 75, 90, 100 })
                {
                    data.Add(kind, length, depth);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Grid))]
    public void Needle_sits_at_the_requested_depth(HaystackKind haystack, int length, double depth)
    {
        var task = new NiahTask("grid", new NiahOptions { Haystack = haystack, Depth = depth });
        EvalSample s = task.Generate(new SampleRequest { Length = length, Seed = 99, Counter = Counter });
        string needle = $"One of the special magic numbers for {QueryKey(s)} is: {s.Answers[0]}.";
        int contextStart = s.Input.IndexOf('\n') + 1, contextEnd = s.Input.LastIndexOf('\n');
        string context = s.Input[contextStart..contextEnd];
        int at = context.IndexOf(needle, StringComparison.Ordinal);
        Assert.True(at >= 0, "the needle is in the context");
        Assert.Equal(at, context.LastIndexOf(needle, StringComparison.Ordinal));
        double measured = 100.0 * Counter.Count(context[..at]) / Counter.Count(context);
        // Needles go between sentences or lines: the depth is exact up to one of them (~1% at these lengths).
        double tolerance = length >= 8192 ? 1.5 : 3.0;
        Assert.InRange(measured, depth - tolerance, depth + tolerance);
        Assert.Equal(depth, s.Depth);
    }

    [Fact]
    public void Catalog_grid_names_carry_their_depth()
    {
        IReadOnlyList<IEvalTask> grid = TaskCatalog.NeedleGrid();
        Assert.Equal(11, grid.Count);
        Assert.Equal("niah_depth_0", grid[0].Name);
        Assert.Equal("niah_depth_100", grid[^1].Name);
        Assert.Equal([0.0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], grid.Select(t => t.Depth!.Value));
    }

    private static string QueryKey(EvalSample s)
    {
        const string marker = "What is the special magic number for ";
        int from = s.Input.LastIndexOf(marker, StringComparison.Ordinal) + marker.Length;
        return s.Input[from..s.Input.IndexOf(" mentioned", from, StringComparison.Ordinal)];
    }
}
