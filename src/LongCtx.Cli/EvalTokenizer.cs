using LongCtx.Eval.Running;
using LongCtx.Tokenization;

namespace LongCtx.Cli;

/// <summary>The model's own tokenizer, as the evaluation runner asks for it.</summary>
internal sealed class EvalTokenizer(Tokenizer tokenizer) : IEvalTokenizer
{
    public int[] Encode(string text, bool addSpecial, bool parseSpecial) => tokenizer.Encode(text, addSpecial, parseSpecial);

    public string Decode(ReadOnlySpan<int> tokens) => tokenizer.Decode(tokens);

    public bool IsEndOfGeneration(int token) => tokenizer.IsEndOfGeneration(token);
}
