using System.CommandLine;
using System.Text;
using LongCtx.Generation;
using LongCtx.Generation.Sampling;
using LongCtx.Models;
using LongCtx.Tokenization;

namespace LongCtx.Cli;

/// <summary>
/// <c>longctx chat</c>: an interactive conversation, one user line per turn, read from standard
/// input (a terminal or a pipe). /reset forgets the conversation, /exit or end of input ends it.
/// </summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var models = new ModelArgs();
        var sampling = new SamplingArgs(defaultMaxTokens: 512);
        var template = new Option<string?>("--chat-template") { Description = "Chat template: a llama.cpp name (chatml, llama3, ...) or a file with the template text (default: the model's own, else chatml)" };
        var system = new Option<string?>("--system") { Description = "System message at the start of the conversation" };
        var command = new Command("chat", "Chat with a model: one line per turn on stdin, /reset, /exit; answers stream to stdout, timings to stderr") { template, system };
        models.AddTo(command);
        sampling.AddTo(command);
        command.SetAction(parse => CliErrors.Run(() => Run(parse, models, sampling, parse.GetValue(template), parse.GetValue(system))));
        return command;
    }

    private static int Run(ParseResult parse, ModelArgs models, SamplingArgs sampling, string? templateName, string? system)
    {
        (Model model, Session session) = models.Load(parse, out TimeSpan load);
        using (model)
        {
            Tokenizer tokenizer = model.Tokenizer;
            ChatTemplate template = ChatTemplates.Choose(templateName, model);
            SamplerChain sampler = sampling.CreateSampler(parse, model.Config.VocabSize, session.ContextSize, tokenizer.EndOfGenerationTokens);
            StopCondition stop = sampling.CreateStop(parse, tokenizer);
            var conversation = new Conversation(new TextGenerator(session, tokenizer, sampler) { Press = models.KvMethod(parse).Press }, tokenizer, template, system);

            Console.OutputEncoding = new UTF8Encoding(false);
            Console.InputEncoding = new UTF8Encoding(false);
            TextWriter stdout = Console.Out;
            bool interactive = !Console.IsInputRedirected;
            Console.Error.WriteLine($"chat template {template.Name}, context {session.ContextSize} tokens, loaded in {load.TotalMilliseconds:F0} ms. /reset forgets the conversation, /exit (or end of input) quits.");
            var answer = new StringBuilder();
            while (true)
            {
                if (interactive)
                {
                    stdout.Write("> ");
                    stdout.Flush();
                }
                string? line = Console.In.ReadLine();
                if (line == null || line.Trim() is "/exit" or "/quit")
                {
                    break;
                }
                if (line.Trim() == "/reset")
                {
                    conversation.Reset();
                    Console.Error.WriteLine("(conversation reset)");
                    continue;
                }
                if (line.Length == 0)
                {
                    continue;
                }
                answer.Clear();
                GenerationResult result;
                try
                {
                    result = conversation.Reply(line, stop, piece =>
                    {
                        stdout.Write(piece);
                        answer.Append(piece);
                    });
                }
                catch (PromptTooLongException e)
                {
                    // The turn is dropped; the conversation so far stays.
                    Console.Error.WriteLine($"error: {e.Message}; /reset starts a new conversation");
                    continue;
                }
                stdout.WriteLine();
                stdout.Flush();
                RunStats.Print(null, result, session.KvCacheBytes);
            }
        }
        return 0;
    }
}
