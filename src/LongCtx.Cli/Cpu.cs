using System.Globalization;

namespace LongCtx.Cli;

/// <summary>What the CPU is, for defaults and reports (Linux /proc and /sys; elsewhere the logical core count).</summary>
internal static class Cpu
{
    /// <summary>Physical cores: distinct (package, core) pairs in /sys, else /proc/cpuinfo's "cpu cores", else logical cores.</summary>
    public static int PhysicalCores { get; } = Models.ModelOptions.PhysicalCores;

    /// <summary>The model name from /proc/cpuinfo, or the architecture.</summary>
    public static string Name { get; } = ReadName();

    private static string ReadName()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal))
                {
                    return line[(line.IndexOf(':') + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString().ToLower(CultureInfo.InvariantCulture);
    }
}
