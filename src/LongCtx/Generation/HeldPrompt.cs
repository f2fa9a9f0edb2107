using LongCtx.Tokenization;

namespace LongCtx.Generation;

/// <summary>
/// The rendered chat text a session holds and its tokens, so that a conversation which extends it
/// tokenizes only the new text (as llama.cpp's llama-cli formats only the new message) and the
/// generator reuses the held prefix. Shared by <c>longctx chat</c> and the <c>IChatClient</c>.
/// </summary>
public sealed class HeldPrompt
{
    private readonly List<int> _tokens = [];
    private string _text = "";

    /// <summary>Forgets what the session holds: the next prompt is tokenized whole.</summary>
    public void Clear()
    {
        _tokens.Clear();
        _text = "";
    }

    /// <summary>
    /// The tokens of <paramref name="rendered"/>: the held tokens and the new text's tokens when it
    /// extends the held text, else the whole text tokenized afresh (with the vocabulary's BOS).
    /// </summary>
    public List<int> Tokenize(Tokenizer tokenizer, string rendered)
    {
        var prompt = new List<int>();
        if (_tokens.Count > 0 && rendered.StartsWith(_text, StringComparison.Ordinal))
        {
            prompt.AddRange(_tokens);
            tokenizer.Encode(rendered.AsSpan(_text.Length), prompt, addSpecial: false, parseSpecial: true);
        }
        else
        {
            tokenizer.Encode(rendered, prompt, addSpecial: true, parseSpecial: true);
        }
        return prompt;
    }

    /// <summary>
    /// Records what the session holds after a generation from <paramref name="prompt"/>: the prompt
    /// and the answer's tokens, standing for <paramref name="text"/> (the rendered prompt and the
    /// answer). An end-of-generation token is the template's to write again, so it is dropped; after
    /// a stop string the tokens run past the returned text, so nothing is held and the next prompt
    /// is tokenized whole.
    /// </summary>
    public void Keep(IReadOnlyList<int> prompt, IReadOnlyList<int> generated, string text, StopReason reason)
    {
        Clear();
        if (reason == StopReason.StopString)
        {
            return;
        }
        _tokens.AddRange(prompt);
        _tokens.AddRange(generated);
        if (reason == StopReason.EndOfGeneration)
        {
            _tokens.RemoveAt(_tokens.Count - 1);
        }
        _text = text;
    }
}
