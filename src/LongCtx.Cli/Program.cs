using System.CommandLine;
using LongCtx.Cli;

var root = new RootCommand("LongCtx: long-context LLM inference on the CPU, for the GGUF files you already have.");
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(SynthesizeCommand.Create());
// The eval engine takes the model's text tokenizer from the tokenizer room; none is in this build yet.
root.Subcommands.Add(EvalCommand.Create(new EvalEngineSource(tokenizer: null)));
return await root.Parse(args).InvokeAsync();
