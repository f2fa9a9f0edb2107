namespace LongCtx.Eval;

/// <summary>
/// Counts the tokens a text becomes under the model's own tokenizer (no special tokens added).
/// Generators size every sample with it, so a sample is as long as the model will see it.
/// </summary>
public interface ITokenCounter
{
    /// <summary>Number of tokens of <paramref name="text"/>.</summary>
    int Count(string text);
}

/// <summary>An <see cref="ITokenCounter"/> over a function, e.g. <c>t =&gt; tokenizer.Encode(t, false, false).Length</c>.</summary>
public sealed class DelegateTokenCounter(Func<string, int> count) : ITokenCounter
{
    /// <inheritdoc/>
    public int Count(string text) => count(text);
}
