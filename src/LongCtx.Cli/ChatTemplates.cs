using LongCtx.Models;
using LongCtx.Tokenization;

namespace LongCtx.Cli;

/// <summary>Chooses the chat template for a run: --chat-template NAME or FILE, else the model's own, else chatml (as llama.cpp).</summary>
internal static class ChatTemplates
{
    /// <exception cref="ChatTemplateException">An unknown name, or a template none of the built-in formats recognises.</exception>
    public static ChatTemplate Choose(string? nameOrFile, Model model)
    {
        if (nameOrFile == null)
        {
            return ChatTemplate.FromGguf(model.File) ?? ChatTemplate.FromName("chatml");
        }
        foreach (string name in ChatTemplate.BuiltinNames)
        {
            if (name == nameOrFile)
            {
                return ChatTemplate.FromName(name);
            }
        }
        // Not a built-in name: a file with the template text if there is one; otherwise the unknown name's error.
        return File.Exists(nameOrFile) ? ChatTemplate.FromFile(nameOrFile) : ChatTemplate.FromName(nameOrFile);
    }
}
