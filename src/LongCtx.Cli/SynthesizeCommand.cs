using System.CommandLine;
using LongCtx.Models;
using LongCtx.Tensors;
using Spectre.Console;

namespace LongCtx.Cli;

/// <summary><c>longctx synthesize</c>: writes a random-weight GGUF with a real model's shape (for benchmarks and tests).</summary>
internal static class SynthesizeCommand
{
    public static Command Create()
    {
        var shape = new Option<string>("--shape") { Description = $"Model shape: {string.Join(", ", SyntheticShape.Known.Keys)}, or tiny-llama / tiny-qwen2 / tiny-qwen3", DefaultValueFactory = _ => "tiny-llama" };
        var type = new Option<string>("--type") { Description = "Weight type: f32, f16, bf16, q8_0, q4_0, q4_K, q5_K, q6_K", DefaultValueFactory = _ => "q8_0" };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Output GGUF file", Required = true };
        var seed = new Option<int>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 1234 };
        var command = new Command("synthesize", "Write a random-weight GGUF model of a known shape") { shape, type, output, seed };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            string name = parse.GetValue(shape)!;
            SyntheticShape s = SyntheticShape.Known.TryGetValue(name, out SyntheticShape? known) ? known
                : name.StartsWith("tiny-", StringComparison.Ordinal) ? new SyntheticShape { Architecture = name["tiny-".Length..] }
                : throw new ArgumentException($"--shape: unknown shape '{name}'");
            GgmlType t = ParseType(parse.GetValue(type)!);
            FileInfo file = parse.GetValue(output)!;
            AnsiConsole.Status().Start($"writing {file.Name}", _ => SyntheticModel.Write(file.FullName, s, t, parse.GetValue(seed)));
            AnsiConsole.MarkupLine($"wrote [green]{Markup.Escape(file.FullName)}[/] ({new FileInfo(file.FullName).Length / (1024.0 * 1024.0):F1} MiB)");
            return 0;
        }));
        return command;
    }

    /// <summary>Parses a weight type by ggml's name ("q4_K", "f16"), case-insensitively.</summary>
    internal static GgmlType ParseType(string text)
    {
        GgmlType t = GgmlTypeInfo.Parse(text);
        return GgmlTypeInfo.IsSupported(t) ? t : throw new ArgumentException($"type '{text}' is not supported for weights");
    }
}
