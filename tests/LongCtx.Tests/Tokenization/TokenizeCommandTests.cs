using System.Diagnostics;
using LongCtx.Reference;
using LongCtx.Tokenization;

namespace LongCtx.Tests.Tokenization;

/// <summary><c>longctx tokenize</c> run as a user runs it: the built executable, its stdout, stderr and exit code.</summary>
[Collection("Tokenizer files")]
public sealed class TokenizeCommandTests(TokenizerFiles files) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (int Exit, string Out, string Err) Longctx(params string[] args)
    {
        // The CLI is built beside the tests in the same configuration (see the test project's reference).
        string config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        string dll = Path.Combine(OracleFiles.RepositoryRoot(), "src", "LongCtx.Cli", "bin", config, "net10.0", "LongCtx.Cli.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build src/LongCtx.Cli");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["NO_COLOR"] = "1";
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "longctx did not finish");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void IdsOnlyPrintsTheTokenizersIds()
    {
        string path = files["synthetic"];
        Tokenizer tokenizer = files.Ours("synthetic");
        const string text = "the quick brown fox, 123 <|bos|>ok";
        (int exit, string stdout, string stderr) = Longctx("tokenize", "-m", path, "--ids-only", text);
        Assert.True(exit == 0, stderr);
        Assert.Equal(string.Join(' ', tokenizer.Encode(text, addSpecial: true, parseSpecial: true)), stdout.Trim());
        Assert.Contains("tokens from", stderr);

        (exit, stdout, _) = Longctx("tokenize", "-m", path, "--ids-only", "--no-special", "--no-parse-special", text);
        Assert.Equal(0, exit);
        Assert.Equal(string.Join(' ', tokenizer.Encode(text, addSpecial: false, parseSpecial: false)), stdout.Trim());
    }

    [Fact]
    public void TableShowsPiecesAndKinds()
    {
        string textFile = _dir.File("prompt.txt");
        File.WriteAllText(textFile, "Hi\n<|im_start|>");
        (int exit, string stdout, string stderr) = Longctx("tokenize", "-m", files["spm"], "--file", textFile);
        Assert.True(exit == 0, stderr);
        Assert.Contains("<s>", stdout);
        Assert.Contains("control", stdout);
        Assert.Contains("\\n", stdout);           // the newline's byte token, escaped
        Assert.Contains("byte", stdout);
    }

    [Fact]
    public void BadInputIsOneErrorLineAndExitCodeOne()
    {
        string bad = _dir.File("bad.txt");
        File.WriteAllBytes(bad, [0x61, 0x62, 0xC3, 0x28]);
        (int exit, string stdout, _) = Longctx("tokenize", "-m", files["synthetic"], "-f", bad);
        Assert.Equal(1, exit);
        Assert.Contains("byte offset 2", stdout);

        (exit, stdout, _) = Longctx("tokenize", "-m", files["synthetic"]);
        Assert.Equal(1, exit);
        Assert.Contains("--file", stdout);
    }
}
