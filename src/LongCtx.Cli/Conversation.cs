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
    private readonly HeldPrompt _held = new();
    private readonly List<int> _generated = [];

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
        _held.Clear();
        _generator.Reset();
    }

    /// <summary>Adds the user's message, generates the answer (streamed to <paramref name="onText"/>) and adds it to the history.</summary>
    /// <exception cref="PromptTooLongException">The conversation no longer fits the context; the message is not kept.</exception>
    public GenerationResult Reply(string user, StopCondition stop, TextSink onText)
    {
        _messages.Add(new ChatMessage("user", user));
        string rendered = _template.Render(_messages, addAssistant: true);
        List<int> prompt = _held.Tokenize(_tokenizer, rendered);

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

        _held.Keep(prompt, _generated, rendered + answer, result.Reason);
        return result;
    }
}
