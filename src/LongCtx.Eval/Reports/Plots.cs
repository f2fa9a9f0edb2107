using ScottPlot;

namespace LongCtx.Eval.Reports;

/// <summary>The report's PNG plots, drawn with ScottPlot 5 (SkiaSharp, software rendering: no display needed).</summary>
public static class Plots
{
    /// <summary>Needle heatmap size in pixels.</summary>
    public const int HeatmapWidth = 800, HeatmapHeight = 600;
    /// <summary>Score-vs-KV plot size in pixels.</summary>
    public const int KvWidth = 800, KvHeight = 500;
    /// <summary>Height of the per-task bar chart (its width grows with tasks × methods).</summary>
    public const int BarsHeight = 550;

    private static readonly ScottPlot.Palettes.Category10 Palette = new();

    /// <summary>
    /// Needle-in-a-haystack heatmap: score (0–100) by needle depth (rows) and context length
    /// (columns) for one model and method. Returns false (and writes nothing) without depth records.
    /// </summary>
    public static bool NeedleHeatmap(ResultTable table, string model, string method, string path)
    {
        IReadOnlyList<double> depths = table.Depths;
        var lengths = table.Lengths.Where(l => depths.Any(d => table.DepthCell(model, method, d, l).HasValue)).ToList();
        if (depths.Count == 0 || lengths.Count == 0)
        {
            return false;
        }
        // Row 0 is drawn at the top: shallow needles on top, as the usual NIAH pictures.
        var data = new double[depths.Count, lengths.Count];
        for (int r = 0; r < depths.Count; r++)
        {
            for (int c = 0; c < lengths.Count; c++)
            {
                data[r, c] = table.DepthCell(model, method, depths[r], lengths[c]) ?? double.NaN;
            }
        }
        var plot = new Plot();
        var colormap = new ScottPlot.Colormaps.Viridis();
        // Cells are drawn as rectangles (exact placement); the hidden heatmap only feeds the color bar.
        var scale = plot.Add.Heatmap(new double[,] { { 0, 100 } });
        scale.Colormap = colormap;
        scale.ManualRange = new ScottPlot.Range(0, 100);
        scale.IsVisible = false;
        plot.Add.ColorBar(scale).Label = "score";
        for (int r = 0; r < depths.Count; r++)
        {
            double y = depths.Count - 1 - r;  // shallow needles on top
            for (int c = 0; c < lengths.Count; c++)
            {
                double v = data[r, c];
                var cell = plot.Add.Rectangle(c - 0.5, c + 0.5, y - 0.5, y + 0.5);
                cell.FillColor = double.IsNaN(v) ? Colors.LightGray : colormap.GetColor(v / 100.0);
                cell.LineColor = Colors.White;
                cell.LineWidth = 1;
                if (!double.IsNaN(v))
                {
                    var text = plot.Add.Text($"{v:0}", c, y);
                    text.LabelAlignment = Alignment.MiddleCenter;
                    text.LabelFontColor = v > 60 ? Colors.Black : Colors.White;
                    text.LabelFontSize = 11;
                }
            }
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, lengths.Count).Select(i => (double)i).ToArray(), lengths.Select(MarkdownReport.LengthName).ToArray());
        plot.Axes.Left.SetTicks(Enumerable.Range(0, depths.Count).Select(i => (double)(depths.Count - 1 - i)).ToArray(), depths.Select(d => $"{d:0.#}%").ToArray());
        plot.Axes.SetLimits(-0.5, lengths.Count - 0.5, -0.5, depths.Count - 0.5);
        plot.Title($"Needle retrieval: {model}, {method}");
        plot.XLabel("context length (tokens)");
        plot.YLabel("needle depth");
        plot.SavePng(path, HeatmapWidth, HeatmapHeight);
        return true;
    }

    /// <summary>
    /// Average score against KV-cache size for every method of a model: relative to the full cache
    /// (its KV bytes = 100%) when the run has one, else in MiB. Methods of one family
    /// (the spec's name before ':') are joined by a line, ordered by size.
    /// </summary>
    public static void ScoreVersusKv(ResultTable table, string model, string path)
    {
        var plot = new Plot();
        double? fullBytes = table.Overall(model, "full")?.KvBytes;
        var points = table.Methods
            .Select(m => (Method: m, Stats: table.Overall(model, m), Score: table.Average(model, m)))
            .Where(p => p.Stats is not null && p.Score.HasValue)
            .Select(p => (p.Method, X: fullBytes is double f && f > 0 ? 100 * p.Stats!.KvBytes / f : p.Stats!.KvBytes / (1024.0 * 1024.0), Y: p.Score!.Value))
            .ToList();
        int color = 0;
        foreach (var family in points.GroupBy(p => Family(p.Method)))
        {
            var ordered = family.OrderBy(p => p.X).ToList();
            var scatter = plot.Add.Scatter(ordered.Select(p => p.X).ToArray(), ordered.Select(p => p.Y).ToArray(), Palette.GetColor(color++));
            scatter.LegendText = family.Key;
            scatter.MarkerSize = family.Key == "full" ? 14 : 8;
            scatter.MarkerShape = family.Key == "full" ? MarkerShape.FilledDiamond : MarkerShape.FilledCircle;
            scatter.LineWidth = ordered.Count > 1 ? 2 : 0;
            foreach (var p in ordered)
            {
                // Parameters only (the legend names the family), staggered so coinciding points stay readable.
                int colon = p.Method.IndexOf(':');
                var label = plot.Add.Text(colon < 0 ? p.Method : p.Method[(colon + 1)..], p.X, p.Y);
                label.LabelFontSize = 10;
                label.LabelFontColor = Palette.GetColor(color - 1);
                label.OffsetY = -6 - 13 * (color - 1);
                label.LabelAlignment = Alignment.LowerCenter;
            }
        }
        plot.Title($"Score vs KV cache: {model}");
        plot.XLabel(fullBytes.HasValue ? "KV cache (% of full cache)" : "KV cache (MiB)");
        plot.YLabel("average score");
        plot.Axes.SetLimitsY(0, 105);
        if (points.Count > 0)
        {
            double maxX = points.Max(p => p.X);
            plot.Axes.SetLimitsX(0, Math.Max(1e-9, maxX * 1.12));
        }
        plot.ShowLegend(Edge.Right);
        plot.SavePng(path, KvWidth, KvHeight);
    }

    /// <summary>Per-task bars: each task's score averaged over lengths, one bar per method.</summary>
    /// <returns>The image width used.</returns>
    public static int TaskBars(ResultTable table, string model, string path)
    {
        var methods = table.Methods.Where(m => table.Overall(model, m) is not null).ToList();
        var tasks = table.Tasks;
        var plot = new Plot();
        double group = methods.Count + 1;
        for (int m = 0; m < methods.Count; m++)
        {
            var bars = new List<Bar>();
            for (int t = 0; t < tasks.Count; t++)
            {
                if (table.TaskAverage(model, methods[m], tasks[t]) is double score)
                {
                    bars.Add(new Bar { Position = t * group + m, Value = score, FillColor = Palette.GetColor(m), Size = 0.9 });
                }
            }
            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = methods[m];
        }
        double[] centers = Enumerable.Range(0, tasks.Count).Select(t => t * group + (methods.Count - 1) / 2.0).ToArray();
        plot.Axes.Bottom.SetTicks(centers, tasks.ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 110;
        plot.Axes.SetLimitsY(0, 105);
        plot.Axes.SetLimitsX(-1, Math.Max(1, tasks.Count * group - 1));
        plot.Title($"Score per task: {model}");
        plot.YLabel("score (avg over lengths)");
        plot.ShowLegend(Edge.Right);
        int width = Math.Max(800, 260 + tasks.Count * (int)group * 14);
        plot.SavePng(path, width, BarsHeight);
        return width;
    }

    /// <summary>The family of a method spec: its name before ':' (e.g. snapkv for snapkv:ratio=0.5).</summary>
    public static string Family(string method)
    {
        int colon = method.IndexOf(':');
        return colon < 0 ? method : method[..colon];
    }
}
