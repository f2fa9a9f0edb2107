using System.Globalization;
using System.Text;

namespace LongCtx.Eval.Reports;

/// <summary>Markdown tables: per model and method, task × length scores; then speed and memory per method and length.</summary>
public static class MarkdownReport
{
    /// <summary>The report as markdown.</summary>
    public static string Render(ResultTable table, string title = "LongCtx evaluation")
    {
        var md = new StringBuilder();
        md.Append("# ").Append(title).Append("\n\n");
        md.Append("Scores are RULER's: the mean per-sample metric × 100 (string_match_all for niah/vt/cwe/fwe, string_match_part for qa, BABILong's answer match for qa1–qa5).\n");
        foreach (string model in table.Models)
        {
            foreach (string method in table.Methods)
            {
                if (table.Overall(model, method) is null)
                {
                    continue;
                }
                md.Append("\n## ").Append(model).Append(" — ").Append(method).Append("\n\n");
                md.Append("| task |");
                foreach (int length in table.Lengths)
                {
                    md.Append(' ').Append(LengthName(length)).Append(" |");
                }
                md.Append(" avg |\n|---|");
                foreach (int _ in table.Lengths)
                {
                    md.Append("---:|");
                }
                md.Append("---:|\n");
                foreach (string task in table.Tasks)
                {
                    md.Append("| ").Append(task).Append(" |");
                    foreach (int length in table.Lengths)
                    {
                        md.Append(' ').Append(Score(table.Cell(model, method, task, length)?.Score)).Append(" |");
                    }
                    md.Append(' ').Append(Score(table.TaskAverage(model, method, task))).Append(" |\n");
                }
                md.Append("| **average** |");
                foreach (int length in table.Lengths)
                {
                    md.Append(" **").Append(Score(table.LengthAverage(model, method, length))).Append("** |");
                }
                md.Append(" **").Append(Score(table.Average(model, method))).Append("** |\n");
            }
        }

        md.Append("\n## Speed and KV memory\n\n");
        md.Append("| model | method | length | score | prefill t/s | decode t/s | KV MiB | answers |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
        foreach (string model in table.Models)
        {
            foreach (string method in table.Methods)
            {
                foreach (int length in table.Lengths)
                {
                    if (table.AtLength(model, method, length) is not CellStats s)
                    {
                        continue;
                    }
                    md.Append(CultureInfo.InvariantCulture,
                        $"| {model} | {method} | {LengthName(length)} | {Score(table.LengthAverage(model, method, length))} | {s.PrefillTokensPerSecond:F1} | {s.DecodeTokensPerSecond:F1} | {s.KvBytes / (1024.0 * 1024.0):F2} | {s.Count} |\n");
                }
            }
        }
        return md.ToString();
    }

    /// <summary>A score with one decimal, or a dash when missing.</summary>
    public static string Score(double? score) => score is double s ? s.ToString("F1", CultureInfo.InvariantCulture) : "–";

    /// <summary>4096 → "4k", 1500 → "1500".</summary>
    public static string LengthName(int length) =>
        length % 1024 == 0 ? (length / 1024).ToString(CultureInfo.InvariantCulture) + "k" : length.ToString(CultureInfo.InvariantCulture);
}
