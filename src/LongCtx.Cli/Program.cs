using System.CommandLine;
using LongCtx.Cli;

var root = new RootCommand("LongCtx: long-context LLM inference on the CPU, for the GGUF files you already have.");
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(SynthesizeCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
return await root.Parse(args).InvokeAsync();
