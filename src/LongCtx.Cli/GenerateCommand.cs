using System.CommandLine;
using System.Globalization;
using System.Text;
using LongCtx.Generation;
using LongCtx.Generation.Sampling;
using LongCtx.Models;
using LongCtx.Tokenization;

namespace LongCtx.Cli;

/// <summary><c>longctx generate</c>: continue a prompt (text, a file, or token ids), streaming the text as it comes.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var models = new ModelArgs();
        var sampling = new SamplingArgs(defaultMaxTokens: 128);
        var prompt = new Option<string?>("--prompt", "-p") { Description = "Prompt text" };
        var file = new Option<FileInfo?>("--file", "-f") { Description = "Read the prompt from a file (UTF-8), for long prompts" };
        var tokens = new Option<string?>("--tokens") { Description = "Prompt as token ids separated by spaces or commas, e.g. \"1 2 3\"; the output is then token ids too" };
        var chat = new Option<bool>("--chat") { Description = "Wrap the prompt in the model's chat template as a user message" };
        var template = new Option<string?>("--chat-template") { Description = "Chat template: a llama.cpp name (chatml, llama3, ...) or a file with the template text; implies --chat" };
        var system = new Option<string?>("--system") { Description = "System message; implies --chat" };
        var command = new Command("generate", "Generate text after a prompt, streamed to stdout; timings on stderr") { prompt, file, tokens, chat, template, system };
        models.AddTo(command);
        sampling.AddTo(command);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var input = new PromptInput(parse.GetValue(prompt), parse.GetValue(file), parse.GetValue(tokens),
                parse.GetValue(chat) || parse.GetValue(template) != null || parse.GetValue(system) != null, parse.GetValue(template), parse.GetValue(system));
            return Run(parse, models, sampling, input);
        }));
        return command;
    }

    private sealed record PromptInput(string? Text, FileInfo? File, string? Tokens, bool Chat, string? Template, string? System);

    private static int Run(ParseResult parse, ModelArgs models, SamplingArgs sampling, PromptInput input)
    {
        int given = (input.Text != null ? 1 : 0) + (input.File != null ? 1 : 0) + (input.Tokens != null ? 1 : 0);
        if (given != 1)
        {
            throw new ArgumentException(given == 0 ? "no prompt: give -p TEXT, --file PATH or --tokens IDS" : "give only one of -p, --file and --tokens");
        }
        if (input.Tokens != null && input.Chat)
        {
            throw new ArgumentException("--chat, --chat-template and --system take a text prompt (-p or --file), not --tokens");
        }
        string? text = input.Text;
        if (input.File != null)
        {
            text = File.Exists(input.File.FullName) ? ReadUtf8(input.File.FullName)
                : throw new FileNotFoundException($"prompt file not found: {input.File.FullName}", input.File.FullName);
        }

        (Model model, Session session) = models.Load(parse, out TimeSpan load);
        using (model)
        {
            // Token ids need no tokenizer; text does (Model.Tokenizer names what is missing).
            Tokenizer? tokenizer = input.Tokens != null ? TryTokenizer(model) : model.Tokenizer;
            int[] ids;
            if (input.Tokens != null)
            {
                ids = ParseTokens(input.Tokens);
            }
            else
            {
                if (input.Chat)
                {
                    ChatTemplate template = ChatTemplates.Choose(input.Template, model);
                    var messages = new List<ChatMessage>();
                    if (input.System != null)
                    {
                        messages.Add(new ChatMessage("system", input.System));
                    }
                    messages.Add(new ChatMessage("user", text!));
                    text = template.Render(messages, addAssistant: true);
                }
                // As llama.cpp's tools: BOS as the vocabulary asks, and control tokens in the text recognised.
                ids = tokenizer!.Encode(text!, addSpecial: true, parseSpecial: true);
                if (ids.Length == 0)
                {
                    throw new ArgumentException("the prompt is empty: it gives no tokens");
                }
            }

            SamplerChain sampler = sampling.CreateSampler(parse, model.Config.VocabSize, session.ContextSize, SamplingArgs.EndOfGeneration(tokenizer));
            StopCondition stop = sampling.CreateStop(parse, tokenizer);
            var generator = new TextGenerator(session, tokenizer, sampler) { Press = models.KvMethod(parse).Press };
            Console.OutputEncoding = new UTF8Encoding(false);
            TextWriter stdout = Console.Out;
            GenerationResult result;
            if (input.Tokens != null)
            {
                var generated = new List<int>();
                result = generator.Generate(ids, stop, null, generated);
                stdout.WriteLine(string.Join(' ', generated));
            }
            else
            {
                result = generator.Generate(ids, stop, piece => stdout.Write(piece));
                stdout.WriteLine();
            }
            stdout.Flush();
            RunStats.Print(load, result, session.KvCacheBytes);
        }
        return 0;
    }

    private static Tokenizer? TryTokenizer(Model model)
    {
        try
        {
            return model.Tokenizer;
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>The file's text; invalid UTF-8 is a named error with its byte offset, not replacement characters.</summary>
    private static string ReadUtf8(string path)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(path));
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidUtf8Exception(e.Index);
        }
    }

    private static int[] ParseTokens(string text)
    {
        string[] parts = text.Split([' ', ',', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            throw new ArgumentException("--tokens is empty: give at least one token id");
        }
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out ids[i]))
            {
                throw new ArgumentException($"--tokens: '{parts[i]}' is not a token id");
            }
        }
        return ids;
    }
}
