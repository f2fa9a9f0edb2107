using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace LongCtx.Benchmarks;

/// <summary>A benchmark that knows how many bytes of weights (or cache) one invocation reads.</summary>
public interface IBytesRead
{
    /// <summary>Bytes read from memory by one invocation with the current parameters.</summary>
    long BytesRead { get; }
}

/// <summary>"GB/s": the bytes an invocation reads over its mean time, to set next to <see cref="MemoryBandwidth"/>.</summary>
public sealed class BandwidthColumn : IColumn
{
    public string Id => nameof(BandwidthColumn);
    public string ColumnName => "GB/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Bytes read per invocation / mean time";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        BenchmarkReport? report = summary[benchmarkCase];
        double? ns = report?.ResultStatistics?.Mean;
        if (ns is null || Activator.CreateInstance(benchmarkCase.Descriptor.Type) is not IBytesRead instance)
        {
            return "-";
        }
        foreach (var p in benchmarkCase.Parameters.Items)
        {
            benchmarkCase.Descriptor.Type.GetProperty(p.Name)?.SetValue(instance, p.Value);
            benchmarkCase.Descriptor.Type.GetField(p.Name)?.SetValue(instance, p.Value);
        }
        return (instance.BytesRead / ns.Value).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
    }
}
