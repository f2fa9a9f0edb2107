namespace LongCtx.Eval.Scoring;

/// <summary>How a prediction is scored against a sample's expected answers.</summary>
public enum Metric
{
    /// <summary>RULER's string_match_all: the fraction of expected answers found (case-insensitive substring) in the prediction.</summary>
    StringMatchAll,
    /// <summary>RULER's string_match_part: 1 if any expected answer is found in the prediction, else 0.</summary>
    StringMatchPart,
    /// <summary>BABILong's compare_answers: the first sentence of the prediction names the answer and no other candidate label absent from the question.</summary>
    BabilongMatch,
}
