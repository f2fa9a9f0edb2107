using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using LongCtx.Gguf;
using LongCtx.Tokenization;
using Spectre.Console;

namespace LongCtx.Cli;

/// <summary><c>longctx tokenize -m FILE TEXT</c>: the token ids and pieces of a text, as the model's tokenizer gives them.</summary>
internal static class TokenizeCommand
{
    // Above this many tokens a table is more noise than help: one plain line per token instead.
    private const int MaxTableRows = 1000;

    public static Command Create()
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = "GGUF file (only its tokenizer.ggml.* metadata is read; a vocab-only file works)", Required = true };
        var text = new Argument<string?>("text") { Description = "Text to tokenize", Arity = ArgumentArity.ZeroOrOne };
        var file = new Option<FileInfo?>("--file", "-f") { Description = "Read the text from a file (UTF-8) instead" };
        var idsOnly = new Option<bool>("--ids-only") { Description = "Print only the ids, separated by spaces (what `generate --tokens` reads)" };
        var noSpecial = new Option<bool>("--no-special") { Description = "Do not add the BOS/EOS tokens the vocabulary asks for" };
        var noParseSpecial = new Option<bool>("--no-parse-special") { Description = "Treat control-token text such as <|im_start|> as plain text" };
        var command = new Command("tokenize", "Print the token ids and pieces of a text") { model, text, file, idsOnly, noSpecial, noParseSpecial };
        command.SetAction(parse => CliErrors.Run(() => Run(
            parse.GetValue(model)!, parse.GetValue(text), parse.GetValue(file), parse.GetValue(idsOnly),
            !parse.GetValue(noSpecial), !parse.GetValue(noParseSpecial))));
        return command;
    }

    private static int Run(FileInfo modelPath, string? text, FileInfo? file, bool idsOnly, bool addSpecial, bool parseSpecial)
    {
        byte[] utf8 = (text, file) switch
        {
            (not null, null) => Encoding.UTF8.GetBytes(text),
            (null, not null) => File.Exists(file.FullName) ? File.ReadAllBytes(file.FullName)
                : throw new FileNotFoundException($"text file not found: {file.FullName}", file.FullName),
            (null, null) => throw new ArgumentException("give the text to tokenize, or --file"),
            _ => throw new ArgumentException("give either the text or --file, not both"),
        };

        var load = Stopwatch.StartNew();
        Tokenizer tokenizer;
        using (GgufFile gguf = GgufFile.Open(modelPath.FullName))
        {
            tokenizer = Tokenizer.FromGguf(gguf);
        }
        load.Stop();
        var encode = Stopwatch.StartNew();
        int[] ids = tokenizer.Encode(utf8, addSpecial, parseSpecial);
        encode.Stop();

        if (idsOnly)
        {
            Console.Out.WriteLine(string.Join(' ', ids));
        }
        else if (ids.Length <= MaxTableRows)
        {
            var table = new Table().Border(TableBorder.Rounded).AddColumn("#").AddColumn("id").AddColumn("piece").AddColumn("kind");
            for (int i = 0; i < ids.Length; i++)
            {
                table.AddRow(i.ToString(CultureInfo.InvariantCulture), ids[i].ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(Show(tokenizer.TokenToBytes(ids[i], special: true))), Kind(tokenizer.GetAttributes(ids[i])));
            }
            AnsiConsole.Write(table);
        }
        else
        {
            var sb = new StringBuilder();
            foreach (int id in ids)
            {
                sb.Append(id.ToString(CultureInfo.InvariantCulture)).Append(" -> '").Append(Show(tokenizer.TokenToBytes(id, special: true))).Append("'\n");
            }
            Console.Out.Write(sb.ToString());
        }
        Console.Out.Flush();
        double seconds = Math.Max(encode.Elapsed.TotalSeconds, 1e-9);
        // Plain stderr, so that stdout stays machine-readable.
        Console.Error.WriteLine(
            $"{ids.Length} tokens from {utf8.Length} bytes | tokenizer {tokenizer.Model}" + (tokenizer.PreTokenizer is string pre ? $"/{pre}" : "") +
            $", {tokenizer.VocabSize} tokens, loaded in {load.Elapsed.TotalMilliseconds:F0} ms | encoded in {encode.Elapsed.TotalMilliseconds:F1} ms ({utf8.Length / seconds / 1e6:F2} MB/s)");
        return 0;
    }

    /// <summary>A piece as readable text: control characters escaped, bytes that are not whole UTF-8 characters as \xNN.</summary>
    private static string Show(ReadOnlySpan<byte> piece)
    {
        var sb = new StringBuilder();
        int i = 0;
        while (i < piece.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(piece[i..], out System.Text.Rune rune, out int used) != System.Buffers.OperationStatus.Done)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\x{piece[i]:X2}");
                i++;
                continue;
            }
            sb.Append(rune.Value switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < 0x20 or 0x7F => $"\\x{rune.Value:X2}",
                _ => rune.ToString(),
            });
            i += used;
        }
        return sb.ToString();
    }

    private static string Kind(TokenAttributes a) =>
        (a & TokenAttributes.Control) != 0 ? "control"
        : (a & TokenAttributes.UserDefined) != 0 ? "user-defined"
        : (a & TokenAttributes.Byte) != 0 ? "byte"
        : (a & TokenAttributes.Unknown) != 0 ? "unknown"
        : (a & TokenAttributes.Unused) != 0 ? "unused"
        : "";
}
