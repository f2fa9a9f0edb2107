using System.Globalization;
using LongCtx.Train.Data;
using ScottPlot;

namespace LongCtx.Train;

/// <summary>
/// The training curves of a run's loss log (<see cref="Trainer.LossFile"/>) as one PNG: the batch loss
/// on top, each task's answer accuracy below, both against tokens seen, averaged over windows of
/// steps (a step's batch is a few sequences, so single steps are noise), with the curriculum's stage
/// boundaries marked.
/// </summary>
internal static class LossPlot
{
    public const int Width = 1000, PanelHeight = 400;

    /// <summary>
    /// Writes the PNG; returns the number of log rows read. Tokens seen come from the config's stages
    /// (the log's own column held step × the current stage's batch tokens before that was fixed).
    /// </summary>
    /// <exception cref="InvalidDataException">The log has no header or no rows, or a row is malformed (named by line).</exception>
    public static int Write(string lossLog, TrainConfig config, string output, int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        string[] lines = File.ReadAllLines(lossLog);
        if (lines.Length < 2) throw new InvalidDataException($"{lossLog}: no steps logged");
        string[] header = lines[0].Split('\t');
        int Column(string name) => Array.IndexOf(header, name) is int i and >= 0 ? i : throw new InvalidDataException($"{lossLog}: no column '{name}'");
        int stepCol = Column("step"), lossCol = Column("loss");
        var accCols = new int[BatchSource.Tasks.Length];
        for (int t = 0; t < accCols.Length; t++) accCols[t] = Array.IndexOf(header, "acc_" + BatchSource.Tasks[t]);

        var steps = new List<long>();
        var tokens = new List<double>();
        var loss = new List<double>();
        var acc = new List<double>[accCols.Length];
        for (int t = 0; t < acc.Length; t++) acc[t] = [];
        for (int i = 1; i < lines.Length; i++)
        {
            string[] f = lines[i].Split('\t');
            if (f.Length != header.Length) throw new InvalidDataException($"{lossLog}:{i + 1}: {f.Length} fields, the header has {header.Length}");
            steps.Add(long.Parse(f[stepCol], CultureInfo.InvariantCulture));
            tokens.Add(config.TokensAfter(steps[^1]));
            loss.Add(double.Parse(f[lossCol], CultureInfo.InvariantCulture));
            for (int t = 0; t < acc.Length; t++)
            {
                acc[t].Add(accCols[t] >= 0 && double.TryParse(f[accCols[t]], NumberStyles.Float, CultureInfo.InvariantCulture, out double a) ? a : double.NaN);
            }
        }

        var lossPlot = new Plot();
        var (x, y) = Windowed(tokens, loss, window);
        lossPlot.Add.ScatterLine(x, y);
        lossPlot.Title($"{config.Name}: loss (mean over {window} steps)");
        lossPlot.YLabel("loss (nats per weighted token)");
        lossPlot.XLabel("tokens seen (millions)");

        var accPlot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int t = 0; t < acc.Length; t++)
        {
            var (ax, ay) = Windowed(tokens, acc[t], window);
            if (ax.Length == 0) continue;
            for (int i = 0; i < ay.Length; i++) ay[i] *= 100;
            var line = accPlot.Add.ScatterLine(ax, ay, palette.GetColor(t));
            line.LegendText = BatchSource.Tasks[t];
        }
        accPlot.Title("answer-token accuracy per task (%)");
        accPlot.YLabel("accuracy (%)");
        accPlot.XLabel("tokens seen (millions)");
        accPlot.Axes.SetLimitsY(0, 100);
        accPlot.ShowLegend(Edge.Right);

        // Stage boundaries, at the tokens seen when each stage starts.
        long boundary = 0;
        foreach (Stage stage in config.Stages)
        {
            int row = steps.BinarySearch(boundary + 1);
            if (boundary > 0 && row >= 0)
            {
                double at = config.TokensAfter(boundary) / 1e6;
                foreach (Plot p in new[] { lossPlot, accPlot })
                {
                    var v = p.Add.VerticalLine(at, 1, Colors.Gray);
                    v.LinePattern = LinePattern.Dotted;
                    v.LabelText = $"T {stage.Length}";
                    v.LabelFontSize = 10;
                }
            }
            boundary += stage.Steps;
        }

        var multiplot = new Multiplot();
        multiplot.Reset(lossPlot);
        multiplot.AddPlot(accPlot);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Rows();
        multiplot.SavePng(output, Width, 2 * PanelHeight);
        return steps.Count;
    }

    /// <summary>Means over consecutive windows of rows, skipping NaN (steps without that task); x in millions.</summary>
    private static (double[] X, double[] Y) Windowed(List<double> x, List<double> y, int window)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        for (int start = 0; start < x.Count; start += window)
        {
            int end = Math.Min(x.Count, start + window), n = 0;
            double sum = 0;
            for (int i = start; i < end; i++)
            {
                if (double.IsNaN(y[i])) continue;
                sum += y[i];
                n++;
            }
            if (n == 0) continue;
            xs.Add(x[end - 1] / 1e6);
            ys.Add(sum / n);
        }
        return ([.. xs], [.. ys]);
    }
}
