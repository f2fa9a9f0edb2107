using System.Text.RegularExpressions;
using LongCtx.Eval.Tasks;

namespace LongCtx.Eval.Scoring;

/// <summary>RULER's and BABILong's scoring, exactly as their evaluation scripts define it.</summary>
public static partial class Scorer
{
    /// <summary>
    /// RULER's postprocess_pred: strip, turn every control character (\x00–\x1f) into a newline,
    /// strip again.
    /// </summary>
    public static string Postprocess(string prediction) => ControlChars().Replace(prediction.Trim(), "\n").Trim();

    /// <summary>string_match_all for one prediction: the fraction of references contained in it, case-insensitively.</summary>
    /// <exception cref="ArgumentException">No references.</exception>
    public static double StringMatchAll(string prediction, IReadOnlyList<string> references)
    {
        RequireReferences(references);
        string pred = prediction.ToLowerInvariant();
        int found = 0;
        foreach (string r in references)
        {
            if (pred.Contains(r.ToLowerInvariant(), StringComparison.Ordinal))
            {
                found++;
            }
        }
        return found / (double)references.Count;
    }

    /// <summary>string_match_part for one prediction: 1 if any reference is contained in it, case-insensitively, else 0.</summary>
    /// <exception cref="ArgumentException">No references.</exception>
    public static double StringMatchPart(string prediction, IReadOnlyList<string> references)
    {
        RequireReferences(references);
        string pred = prediction.ToLowerInvariant();
        foreach (string r in references)
        {
            if (pred.Contains(r.ToLowerInvariant(), StringComparison.Ordinal))
            {
                return 1;
            }
        }
        return 0;
    }

    /// <summary>
    /// RULER's task score: the mean of the per-prediction metric over all predictions, times 100
    /// (RULER rounds this to 2 decimals when it prints it).
    /// </summary>
    /// <exception cref="ArgumentException">Different counts of predictions and references, or none.</exception>
    public static double TaskScore(Metric metric, IReadOnlyList<string> predictions, IReadOnlyList<IReadOnlyList<string>> references)
    {
        if (predictions.Count != references.Count || predictions.Count == 0)
        {
            throw new ArgumentException($"need as many predictions as reference lists, and at least one (got {predictions.Count} and {references.Count})");
        }
        double sum = 0;
        for (int i = 0; i < predictions.Count; i++)
        {
            sum += metric switch
            {
                Metric.StringMatchAll => StringMatchAll(predictions[i], references[i]),
                Metric.StringMatchPart => StringMatchPart(predictions[i], references[i]),
                _ => throw new ArgumentException($"{metric} needs a question and labels; score samples with Score(sample, prediction)"),
            };
        }
        return sum / predictions.Count * 100;
    }

    /// <summary>
    /// BABILong's compare_answers: the first sentence of the lower-cased output (cut before any
    /// &lt;context&gt;, &lt;example&gt; or "question") must name the target and no other label,
    /// labels named in the question not counting.
    /// </summary>
    public static double BabilongMatch(string output, string target, string question, IReadOnlyList<string> labels)
    {
        string o = output.ToLowerInvariant();
        o = o.Split('.')[0];
        o = o.Split("<context>")[0];
        o = o.Split("<example>")[0];
        // Upstream splits on 'Question' after lower-casing, which never matches; the lower-case form is what it means.
        o = o.Split("question")[0];
        string q = question.ToLowerInvariant();
        var inOutput = new HashSet<string>(StringComparer.Ordinal);
        foreach (string label in labels)
        {
            string l = label.ToLowerInvariant();
            if (o.Contains(l, StringComparison.Ordinal) && !q.Contains(l, StringComparison.Ordinal))
            {
                inOutput.Add(l);
            }
        }
        return inOutput.Count == 1 && inOutput.Contains(target.ToLowerInvariant()) ? 1 : 0;
    }

    /// <summary>Scores a raw model output against a sample (postprocessed first, as RULER does), in [0, 1].</summary>
    public static double Score(EvalSample sample, string output)
    {
        string prediction = Postprocess(output);
        return sample.Metric switch
        {
            Metric.StringMatchAll => StringMatchAll(prediction, sample.Answers),
            Metric.StringMatchPart => StringMatchPart(prediction, sample.Answers),
            Metric.BabilongMatch => BabilongMatch(prediction, sample.Answers[0], sample.Question, sample.Labels),
            _ => throw new ArgumentOutOfRangeException(nameof(sample), sample.Metric, "unknown metric"),
        };
    }

    /// <summary>RULER's metric names, as they appear in results.</summary>
    public static string Name(Metric metric) => metric switch
    {
        Metric.StringMatchAll => "string_match_all",
        Metric.StringMatchPart => "string_match_part",
        Metric.BabilongMatch => "babilong_match",
        _ => metric.ToString(),
    };

    private static void RequireReferences(IReadOnlyList<string> references)
    {
        if (references.Count == 0)
        {
            throw new ArgumentException("a sample needs at least one reference answer");
        }
    }

    [GeneratedRegex("[\\x00-\\x1f]")]
    private static partial Regex ControlChars();
}
