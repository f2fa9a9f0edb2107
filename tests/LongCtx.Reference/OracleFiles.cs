using System.Diagnostics;

namespace LongCtx.Reference;

/// <summary>
/// Finds (and on first use installs) the prebuilt llama.cpp libraries that the tests and
/// <c>longctx bench</c> use as oracle and peer: the npm package
/// <c>@node-llama-cpp/linux-x64@3.22.1</c>, unpacked under <c>.cache/llama.cpp/</c> at the
/// repository root. Nothing of llama.cpp is committed.
/// </summary>
public static class OracleFiles
{
    /// <summary>The npm package that ships libllama and the ggml CPU backends.</summary>
    public const string Package = "@node-llama-cpp/linux-x64@3.22.1";

    private static readonly Lock Gate = new();
    private static string? _binDirectory;

    /// <summary>
    /// The folder holding <c>libllama.v0.5.0.so</c>, <c>libggml-base.so</c> and the CPU backend
    /// variants, installing the npm package there first when it is missing.
    /// The environment variable <c>LONGCTX_LLAMA_BINS</c> overrides the location.
    /// </summary>
    /// <exception cref="InvalidOperationException">npm is missing or the install failed.</exception>
    public static string BinDirectory
    {
        get
        {
            lock (Gate)
            {
                return _binDirectory ??= Locate();
            }
        }
    }

    private static string Locate()
    {
        string? fromEnv = Environment.GetEnvironmentVariable("LONGCTX_LLAMA_BINS");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return fromEnv;
        }
        string cache = Path.Combine(RepositoryRoot(), ".cache", "llama.cpp", "3.22.1");
        string bins = Path.Combine(cache, "package", "bins", "linux-x64");
        if (File.Exists(Path.Combine(bins, "libllama.v0.5.0.so")))
        {
            return bins;
        }
        Directory.CreateDirectory(cache);
        Run("npm", $"pack {Package} --silent", cache);
        string tgz = Directory.GetFiles(cache, "*.tgz").Single();
        Run("tar", $"xzf \"{tgz}\"", cache);
        File.Delete(tgz);
        if (!File.Exists(Path.Combine(bins, "libllama.v0.5.0.so")))
        {
            throw new InvalidOperationException($"{Package} unpacked into {cache}, but {bins}/libllama.v0.5.0.so is missing.");
        }
        return bins;
    }

    /// <summary>The repository root: the nearest ancestor of the working directory or of this assembly holding LongCtx.sln.</summary>
    public static string RepositoryRoot()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "LongCtx.sln")))
                {
                    return dir.FullName;
                }
            }
        }
        throw new InvalidOperationException("LongCtx.sln not found above " + AppContext.BaseDirectory);
    }

    private static void Run(string file, string args, string workingDirectory)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(psi)
            ?? throw new InvalidOperationException($"could not start {file}");
        string stderr = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"'{file} {args}' did not finish in 5 minutes");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{file} {args}' failed with exit code {process.ExitCode}: {stderr}");
        }
    }
}
