using System.Text;
using LongCtx.Generation;
using LongCtx.Tokenization;

namespace LongCtx.Cli;

/// <summary>
/// A chat's history, rendered with its template and kept in step with the session: when the newly
/// rendered conversation extends the text the session already holds, only the new text is
/// tokenized and prefilled (as llama.cpp's llama-cli formats only the new message); otherwise the
/// whole conversation is tokenized again and the generator starts over where it no longer matches.
/// </summary>
internal sealed class Conversation
{
    private readonly TextGenerator _generator;
    private readonly Tokenizer _tokenizer;
    private readonly ChatTemplate _template;
    private readonly string? _system;
    private readonly List<ChatMessage> _messages = [];
    private readonly List<int> _tokens = [];     // the conversation's tokens so far: the session holds them (the last may be pending)
    private readonly List<int> _generated = [];
    private string _text = "";                   // the text _tokens stand for

    public Conversation(TextGenerator generator, Tokenizer tokenizer, ChatTemplate template, string? system)
    {
        _generator = generator;
        _tokenizer = tokenizer;
        _template = template;
        _system = system;
        Reset();
    }

    public IReadOnlyList<ChatMessage> Messages => _messages;

    public void Reset()
    {
        _messages.Clear();
        if (_system != null)
        {
            _messages.Add(new ChatMessage("system", _system));
        }
        _tokens.Clear();
        _text = "";
        _generator.Reset();
    }

    /// <summary>Adds the user's message, generates the answer (streamed to <paramref name="onText"/>) and adds it to the history.</summary>
    /// <exception cref="PromptTooLongException">The conversation no longer fits the context; the message is not kept.</exception>
    public GenerationResult Reply(string user, StopCondition stop, TextSink onText)
    {
        _messages.Add(new ChatMessage("user", user));
        string rendered = _template.Render(_messages, addAssistant: true);
        var prompt = new List<int>();
        if (_tokens.Count > 0 && rendered.StartsWith(_text, StringComparison.Ordinal))
        {
            prompt.AddRange(_tokens);
            _tokenizer.Encode(rendered.AsSpan(_text.Length), prompt, addSpecial: false, parseSpecial: true);
        }
        else
        {
            _tokenizer.Encode(rendered, prompt, addSpecial: true, parseSpecial: true);
        }

        var answer = new StringBuilder();
        _generated.Clear();
        GenerationResult result;
        try
        {
            result = _generator.Generate(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(prompt), stop, piece =>
            {
                answer.Append(piece);
                onText(piece);
            }, _generated);
        }
        catch (PromptTooLongException)
        {
            _messages.RemoveAt(_messages.Count - 1);
            throw;
        }
        _messages.Add(new ChatMessage("assistant", answer.ToString()));

        _tokens.Clear();
        _text = "";
        if (result.Reason != StopReason.StopString)
        {
            // The session holds the prompt and the answer's tokens; an end-of-generation token is the
            // template's to write again (e.g. <|im_end|>), so it is not part of what follows.
            _tokens.AddRange(prompt);
            _tokens.AddRange(_generated);
            if (result.Reason == StopReason.EndOfGeneration)
            {
                _tokens.RemoveAt(_tokens.Count - 1);
            }
            _text = rendered + answer;
        }
        // After a stop string the tokens run past the kept text: the next turn tokenizes the whole conversation again.
        return result;
    }
}
