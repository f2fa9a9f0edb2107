namespace LongCtx.Cli;

/// <summary>Where the built-in model lives, used when a command is given no -m.</summary>
internal static class BuiltinModel
{
    /// <summary>The built-in model's path inside the repository.</summary>
    public static readonly string RelativePath = Path.Combine("models", "longctx.gguf");

    /// <summary>The given file, or the built-in model found beside the executable or in a folder above it (the repository root).</summary>
    /// <exception cref="FileNotFoundException">No file was given and the built-in model is not there.</exception>
    public static string Resolve(FileInfo? given)
    {
        if (given != null)
        {
            return given.FullName;
        }
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, RelativePath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        string expected = Path.Combine(RepositoryRoot() ?? AppContext.BaseDirectory, RelativePath);
        throw new FileNotFoundException($"no model given and the built-in model {expected} does not exist (yet): pass a GGUF file with -m FILE", expected);
    }

    private static string? RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "models")) || File.Exists(Path.Combine(dir.FullName, "LongCtx.slnx")) || File.Exists(Path.Combine(dir.FullName, "LongCtx.sln")))
            {
                return dir.FullName;
            }
        }
        return null;
    }
}
