using System.CommandLine;
using LongCtx.Cli;
using LongCtx.KvCache;

var root = new RootCommand("LongCtx: long-context LLM inference on the CPU, for the GGUF files you already have.");
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(ChatCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(SynthesizeCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(ServeLoadCommand.Create());
// The eval engine runs models with their own tokenizer (Model.Tokenizer) and applies --method
// specs through the KV method registry, as generate --kv does.
root.Subcommands.Add(EvalCommand.Create(new EvalEngineSource(tokenizer: model => new EvalTokenizer(model.Tokenizer), methods: KvMethodRegistry.Parse)));
return await root.Parse(args).InvokeAsync();
