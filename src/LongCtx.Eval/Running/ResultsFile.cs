using System.Text;
using System.Text.Json;

namespace LongCtx.Eval.Running;

/// <summary>The results JSONL: one <see cref="EvalRecord"/> per line, appended and flushed one at a time.</summary>
public static class ResultsFile
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// Reads every complete record. A last line cut off by an interrupted write is removed from the
    /// file (when <paramref name="repair"/>), so appending resumes on a clean line.
    /// </summary>
    /// <exception cref="InvalidDataException">A complete line is not a record; the message names the file and line.</exception>
    public static List<EvalRecord> Load(string path, bool repair = false)
    {
        var records = new List<EvalRecord>();
        if (!File.Exists(path))
        {
            return records;
        }
        byte[] bytes = File.ReadAllBytes(path);
        int lastNewline = Array.LastIndexOf(bytes, (byte)'\n');
        int completeLength = lastNewline + 1;
        if (completeLength < bytes.Length && repair)
        {
            // The tail after the last newline is a record whose write was interrupted.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
            stream.SetLength(completeLength);
        }
        string text = Utf8.GetString(bytes, 0, completeLength);
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
            {
                continue;
            }
            try
            {
                records.Add(JsonSerializer.Deserialize<EvalRecord>(lines[i], Json)
                    ?? throw new InvalidDataException($"{path}:{i + 1}: empty record"));
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{i + 1}: not a result record ({e.Message})", e);
            }
        }
        return records;
    }

    /// <summary>The JSON line of a record (no newline).</summary>
    public static string Serialize(EvalRecord record) => JsonSerializer.Serialize(record, Json);

    /// <summary>Appends one record and flushes it to disk.</summary>
    public static void Append(string path, EvalRecord record)
    {
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        byte[] line = Utf8.GetBytes(Serialize(record) + "\n");
        stream.Write(line);
        stream.Flush(flushToDisk: true);
    }
}
