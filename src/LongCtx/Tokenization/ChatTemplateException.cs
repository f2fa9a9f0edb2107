namespace LongCtx.Tokenization;

/// <summary>A chat template that cannot be rendered: an unknown template name, or template text that matches none of the built-in formats.</summary>
public sealed class ChatTemplateException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="template">The name or the start of the template text that was not recognised.</param>
    /// <param name="message">What went wrong and what to do instead.</param>
    public ChatTemplateException(string template, string message)
        : base(message)
    {
        Template = template;
    }

    /// <summary>The name, or the first characters of the template text, that could not be rendered.</summary>
    public string Template { get; }
}
