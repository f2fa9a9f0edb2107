using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using LongCtx.Benchmarks;

// dotnet run -c Release --project benchmarks/LongCtx.Benchmarks -- --filter '*'
IConfig config = DefaultConfig.Instance.AddColumn(new BandwidthColumn());
BenchmarkSwitcher.FromAssembly(typeof(BandwidthColumn).Assembly).Run(args, config);
