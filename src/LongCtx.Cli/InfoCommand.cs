using System.CommandLine;
using System.Globalization;
using LongCtx.Gguf;
using LongCtx.Models;
using LongCtx.Tensors;
using Spectre.Console;

namespace LongCtx.Cli;

/// <summary><c>longctx info FILE</c>: what a GGUF file holds.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "GGUF model file" };
        var metadata = new Option<bool>("--metadata") { Description = "Also list every metadata key and value" };
        var command = new Command("info", "Print a GGUF file's architecture, hyper-parameters, tensor types and size") { file, metadata };
        command.SetAction(parse => CliErrors.Run(() => Run(parse.GetValue(file)!, parse.GetValue(metadata))));
        return command;
    }

    private static int Run(FileInfo path, bool showMetadata)
    {
        using GgufFile gguf = GgufFile.Open(path.FullName);
        var table = new Table().Border(TableBorder.Rounded).AddColumn("property").AddColumn("value");
        void Row(string k, object v) => table.AddRow(Markup.Escape(k), Markup.Escape(Convert.ToString(v, CultureInfo.InvariantCulture) ?? ""));

        Row("file", path.FullName);
        Row("file size", $"{gguf.FileSize:N0} bytes ({gguf.FileSize / (1024.0 * 1024.0):F1} MiB)");
        Row("GGUF version", gguf.Version);
        Row("name", gguf.GetStringOrNull(GgufKeys.Name) ?? "-");
        Row("architecture", gguf.GetStringOrNull(GgufKeys.Architecture) ?? "-");
        ModelConfig? config = null;
        string? configError = null;
        try
        {
            config = ModelConfig.FromGguf(gguf);
        }
        catch (GgufFormatException e)
        {
            configError = e.Message;
        }
        if (config != null)
        {
            Row("vocabulary", config.VocabSize);
            Row("context length", config.ContextLength);
            Row("embedding length", config.EmbeddingLength);
            Row("blocks", config.BlockCount);
            Row("feed-forward length", config.FeedForwardLength);
            Row("heads (query / kv)", $"{config.HeadCount} / {config.HeadCountKv} (group {config.KvGroup})");
            Row("head dim (k / v)", $"{config.HeadDim} / {config.ValueHeadDim}");
            Row("rope", $"{config.Architecture.Rope}, {config.RopeDimensions} dims, base {config.RopeFreqBase}, scale {config.RopeFreqScale}"
                + (gguf.FindTensor(GgufTensorNames.RopeFreqs) != null ? ", rope_freqs" : ""));
            Row("rms epsilon", config.RmsEpsilon);
            Row("tied embeddings", gguf.FindTensor(GgufTensorNames.Output) == null ? "yes" : "no");
        }
        else
        {
            Row("model", "cannot run: " + configError);
        }
        long parameters = 0;
        var byType = new SortedDictionary<string, (int Count, long Bytes)>(StringComparer.Ordinal);
        foreach (GgufTensorInfo t in gguf.Tensors)
        {
            parameters += t.ElementCount;
            string name = GgmlTypeInfo.Name(t.Type);
            byType[name] = byType.TryGetValue(name, out var c) ? (c.Count + 1, c.Bytes + t.ByteSize) : (1, t.ByteSize);
        }
        Row("tensors", gguf.Tensors.Count);
        Row("parameters", $"{parameters:N0} ({parameters / 1e6:F1} M)");
        Row("tensor types", string.Join(", ", byType.Select(kv => $"{kv.Key} × {kv.Value.Count} ({kv.Value.Bytes / (1024.0 * 1024.0):F1} MiB)")));
        AnsiConsole.Write(table);

        if (showMetadata)
        {
            var meta = new Table().Border(TableBorder.Simple).AddColumn("key").AddColumn("type").AddColumn("value");
            foreach ((string key, GgufValue value) in gguf.Metadata)
            {
                meta.AddRow(Markup.Escape(key), value.Type.ToString(), Markup.Escape(value.ToString()));
            }
            AnsiConsole.Write(meta);
        }
        return 0;
    }
}
