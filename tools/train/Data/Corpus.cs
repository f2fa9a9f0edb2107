using System.IO.Compression;
using System.Text;

namespace LongCtx.Train.Data;

/// <summary>
/// Natural text from files on the machine (Debian-packaged documents: licenses, package docs),
/// read in sorted path order so the same machine gives the same corpus. Gzip files are
/// decompressed; files with NUL bytes or invalid UTF-8 are skipped.
/// </summary>
internal static class Corpus
{
    /// <summary>
    /// The documents under <paramref name="roots"/>, each cut to <paramref name="maxFileBytes"/>,
    /// until <paramref name="maxTotalBytes"/>. A root is a file, a directory (every file below it),
    /// or <c>directory|pattern,pattern</c> to keep only file names (less a .gz suffix) matching a
    /// pattern with <c>*</c> wildcards, e.g. <c>/usr/share/doc|*.txt,*.md,README*</c>.
    /// </summary>
    public static IEnumerable<(string Path, string Text)> Read(IEnumerable<string> roots, long maxTotalBytes, int maxFileBytes = 1 << 20)
    {
        var files = new List<string>();
        foreach (string spec in roots)
        {
            int bar = spec.IndexOf('|', StringComparison.Ordinal);
            string root = bar < 0 ? spec : spec[..bar];
            string[] patterns = bar < 0 ? ["*"] : spec[(bar + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (File.Exists(root)) files.Add(root);
            else if (Directory.Exists(root))
            {
                foreach (string f in Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint }))
                {
                    if (Matches(f, patterns)) files.Add(f);
                }
            }
            else throw new DirectoryNotFoundException($"corpus root '{root}' does not exist");
        }
        files.Sort(StringComparer.Ordinal);
        long total = 0;
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        foreach (string f in files)
        {
            if (total >= maxTotalBytes) yield break;
            byte[] bytes;
            try
            {
                bytes = ReadBytes(f, maxFileBytes);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                continue;
            }
            if (bytes.Length == 0 || Array.IndexOf(bytes, (byte)0) >= 0) continue;
            string text;
            try
            {
                text = strict.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                // A cut may split the last character; anything else invalid is not text.
                if (bytes.Length < maxFileBytes) continue;
                text = Encoding.UTF8.GetString(bytes).TrimEnd('\uFFFD');
                if (text.Contains('\uFFFD', StringComparison.Ordinal)) continue;
            }
            total += bytes.Length;
            yield return (f, text);
        }
    }

    private static bool Matches(string path, string[] patterns)
    {
        string name = Path.GetFileName(path);
        if (name.EndsWith(".gz", StringComparison.Ordinal)) name = name[..^3];
        foreach (string p in patterns)
        {
            if (Glob(name, p)) return true;
        }
        return false;
    }

    /// <summary>Whole-name match with <c>*</c> as any run of characters.</summary>
    internal static bool Glob(string name, string pattern)
    {
        string[] parts = pattern.Split('*');
        if (parts.Length == 1) return name == pattern;
        if (!name.StartsWith(parts[0], StringComparison.Ordinal)) return false;
        int at = parts[0].Length;
        for (int i = 1; i < parts.Length - 1; i++)
        {
            int found = name.IndexOf(parts[i], at, StringComparison.Ordinal);
            if (found < 0) return false;
            at = found + parts[i].Length;
        }
        return name.Length - at >= parts[^1].Length && name.EndsWith(parts[^1], StringComparison.Ordinal);
    }

    private static byte[] ReadBytes(string path, int max)
    {
        using Stream file = File.OpenRead(path);
        using Stream s = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
        var buffer = new byte[max];
        int n = 0, r;
        while (n < max && (r = s.Read(buffer, n, max - n)) > 0) n += r;
        return buffer.AsSpan(0, n).ToArray();
    }
}
