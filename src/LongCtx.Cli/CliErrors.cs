using LongCtx.Gguf;
using LongCtx.Tokenization;
using Spectre.Console;

namespace LongCtx.Cli;

/// <summary>Turns the engine's named errors into one red line and exit code 1, instead of a stack trace.</summary>
internal static class CliErrors
{
    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is GgufFormatException or FileNotFoundException or ArgumentException or InvalidOperationException or NotSupportedException or ChatTemplateException or IOException)
        {
            AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return 1;
        }
    }
}
