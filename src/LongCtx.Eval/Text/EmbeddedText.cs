using System.Reflection;

namespace LongCtx.Eval.Text;

/// <summary>Reads the text files embedded in this assembly (Resources/*.txt).</summary>
internal static class EmbeddedText
{
    public static string Read(string fileName)
    {
        Assembly assembly = typeof(EmbeddedText).Assembly;
        string name = "LongCtx.Eval.Resources." + fileName;
        using Stream stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource '{name}' is missing from {assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
