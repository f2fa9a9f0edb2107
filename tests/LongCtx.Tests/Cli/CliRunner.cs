using System.Diagnostics;
using System.Text;
using LongCtx.Reference;

namespace LongCtx.Tests.Cli;

/// <summary>Runs the built <c>longctx</c> as a user does: arguments, optional standard input, then stdout, stderr and the exit code.</summary>
internal static class CliRunner
{
    public static (int Exit, string Out, string Err) Run(string? stdin, params string[] args)
    {
        // The CLI is built beside the tests in the same configuration (see the test project's reference).
        string config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        string dll = Path.Combine(OracleFiles.RepositoryRoot(), "src", "LongCtx.Cli", "bin", config, "net10.0", "LongCtx.Cli.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build src/LongCtx.Cli");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            StandardInputEncoding = new UTF8Encoding(false),
        };
        psi.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["NO_COLOR"] = "1";
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        if (stdin != null)
        {
            p.StandardInput.Write(stdin);
        }
        p.StandardInput.Close();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "longctx did not finish");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
