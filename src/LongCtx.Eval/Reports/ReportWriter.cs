using System.Globalization;
using System.Net;
using System.Text;
using LongCtx.Eval.Running;

namespace LongCtx.Eval.Reports;

/// <summary>The files a report consists of.</summary>
public sealed record ReportFiles(string Markdown, string Html, IReadOnlyList<string> Plots);

/// <summary>Writes report.md, the PNG plots (plots/) and report.html (tables and plots in one self-contained page).</summary>
public static class ReportWriter
{
    /// <summary>Writes the report of the records in <paramref name="resultsPath"/> into <paramref name="outDir"/>.</summary>
    public static ReportFiles Write(string resultsPath, string outDir, string title = "LongCtx evaluation") =>
        Write(new ResultTable(ResultsFile.Load(resultsPath)), outDir, title);

    /// <summary>Writes the report of <paramref name="table"/> into <paramref name="outDir"/>.</summary>
    public static ReportFiles Write(ResultTable table, string outDir, string title = "LongCtx evaluation")
    {
        string plotDir = Path.Combine(outDir, "plots");
        Directory.CreateDirectory(plotDir);
        var plots = new List<(string Caption, string Path)>();
        foreach (string model in table.Models)
        {
            foreach (string method in table.Methods)
            {
                string heatmap = Path.Combine(plotDir, $"needle_heatmap_{Slug(model)}_{Slug(method)}.png");
                if (Plots.NeedleHeatmap(table, model, method, heatmap))
                {
                    plots.Add(($"Needle heatmap — {model}, {method}", heatmap));
                }
            }
            string kv = Path.Combine(plotDir, $"score_vs_kv_{Slug(model)}.png");
            Plots.ScoreVersusKv(table, model, kv);
            plots.Add(($"Score vs KV cache — {model}", kv));
            string bars = Path.Combine(plotDir, $"task_bars_{Slug(model)}.png");
            Plots.TaskBars(table, model, bars);
            plots.Add(($"Score per task — {model}", bars));
        }

        string markdown = MarkdownReport.Render(table, title);
        var md = new StringBuilder(markdown);
        md.Append("\n## Plots\n\n");
        foreach (var (caption, path) in plots)
        {
            md.Append("![").Append(caption).Append("](plots/").Append(Path.GetFileName(path)).Append(")\n\n");
        }
        string mdPath = Path.Combine(outDir, "report.md");
        File.WriteAllText(mdPath, md.ToString());
        string htmlPath = Path.Combine(outDir, "report.html");
        File.WriteAllText(htmlPath, Html(table, title, plots));
        return new ReportFiles(mdPath, htmlPath, plots.Select(p => p.Path).ToList());
    }

    private static string Html(ResultTable table, string title, List<(string Caption, string Path)> plots)
    {
        var h = new StringBuilder();
        string Enc(string s) => WebUtility.HtmlEncode(s);
        h.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(Enc(title)).Append("</title>\n<style>")
         .Append("body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}")
         .Append("th,td{border:1px solid #ccc;padding:4px 10px;text-align:right}th:first-child,td:first-child{text-align:left}")
         .Append("tr.avg td{font-weight:bold}img{max-width:100%;border:1px solid #eee;margin:.5em 0}figcaption{color:#555}")
         .Append("</style></head><body>\n<h1>").Append(Enc(title)).Append("</h1>\n");
        h.Append("<p>Scores are RULER's: the mean per-sample metric × 100.</p>\n");
        foreach (string model in table.Models)
        {
            foreach (string method in table.Methods)
            {
                if (table.Overall(model, method) is null)
                {
                    continue;
                }
                h.Append("<h2>").Append(Enc(model)).Append(" — ").Append(Enc(method)).Append("</h2>\n<table><tr><th>task</th>");
                foreach (int l in table.Lengths)
                {
                    h.Append("<th>").Append(MarkdownReport.LengthName(l)).Append("</th>");
                }
                h.Append("<th>avg</th></tr>\n");
                foreach (string task in table.Tasks)
                {
                    h.Append("<tr><td>").Append(Enc(task)).Append("</td>");
                    foreach (int l in table.Lengths)
                    {
                        h.Append("<td>").Append(MarkdownReport.Score(table.Cell(model, method, task, l)?.Score)).Append("</td>");
                    }
                    h.Append("<td>").Append(MarkdownReport.Score(table.TaskAverage(model, method, task))).Append("</td></tr>\n");
                }
                h.Append("<tr class=\"avg\"><td>average</td>");
                foreach (int l in table.Lengths)
                {
                    h.Append("<td>").Append(MarkdownReport.Score(table.LengthAverage(model, method, l))).Append("</td>");
                }
                h.Append("<td>").Append(MarkdownReport.Score(table.Average(model, method))).Append("</td></tr>\n</table>\n");
            }
        }
        h.Append("<h2>Speed and KV memory</h2>\n<table><tr><th>model</th><th>method</th><th>length</th><th>score</th><th>prefill t/s</th><th>decode t/s</th><th>KV MiB</th><th>answers</th></tr>\n");
        foreach (string model in table.Models)
        {
            foreach (string method in table.Methods)
            {
                foreach (int l in table.Lengths)
                {
                    if (table.AtLength(model, method, l) is CellStats s)
                    {
                        h.Append(CultureInfo.InvariantCulture,
                            $"<tr><td>{Enc(model)}</td><td>{Enc(method)}</td><td>{MarkdownReport.LengthName(l)}</td><td>{MarkdownReport.Score(table.LengthAverage(model, method, l))}</td><td>{s.PrefillTokensPerSecond:F1}</td><td>{s.DecodeTokensPerSecond:F1}</td><td>{s.KvBytes / (1024.0 * 1024.0):F2}</td><td>{s.Count}</td></tr>\n");
                    }
                }
            }
        }
        h.Append("</table>\n<h2>Plots</h2>\n");
        foreach (var (caption, path) in plots)
        {
            h.Append("<figure><img alt=\"").Append(Enc(caption)).Append("\" src=\"data:image/png;base64,")
             .Append(Convert.ToBase64String(File.ReadAllBytes(path))).Append("\"><figcaption>").Append(Enc(caption)).Append("</figcaption></figure>\n");
        }
        h.Append("</body></html>\n");
        return h.ToString();
    }

    /// <summary>A file-name-safe form of a model or method name.</summary>
    public static string Slug(string name)
    {
        var s = new StringBuilder(name.Length);
        foreach (char c in name)
        {
            s.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_');
        }
        return s.ToString();
    }
}
