using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using LongCtx.Train.Optim;

namespace LongCtx.Train;

/// <summary>
/// The whole state of a run after a step: parameters, AdamW moments and step count. Batches are a
/// function of (seed, step), so this is all a resumed run needs to continue bit for bit.
/// Format: "LCTRAIN1", header length, JSON header, then params, M, V as little-endian float32.
/// Written to a temporary file and renamed, so a crash leaves the previous checkpoint intact.
/// </summary>
internal static class Checkpoint
{
    private static readonly byte[] Magic = "LCTRAIN1"u8.ToArray();

    internal sealed record Header(string Name, long Step, long OptimizerStep, long ParamCount, string Shape);

    public static void Save(string path, string name, long step, float[] parameters, AdamW opt, Model.ModelShape shape)
    {
        string tmp = path + ".tmp";
        using (var f = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            byte[] header = JsonSerializer.SerializeToUtf8Bytes(new Header(name, step, opt.Step, parameters.Length, shape.ToString()), Json.Options);
            f.Write(Magic);
            f.Write(BitConverter.GetBytes(header.Length));
            f.Write(header);
            f.Write(MemoryMarshal.AsBytes(parameters.AsSpan()));
            f.Write(MemoryMarshal.AsBytes(opt.M.AsSpan()));
            f.Write(MemoryMarshal.AsBytes(opt.V.AsSpan()));
            f.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Restores parameters and optimizer state; returns the step the checkpoint was taken after.</summary>
    /// <exception cref="InvalidDataException">Not a checkpoint, or one of another model shape; the message names the file.</exception>
    public static long Load(string path, float[] parameters, AdamW opt, Model.ModelShape shape)
    {
        using var f = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[8];
        f.ReadExactly(magic);
        if (!magic.SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a LongCtx training checkpoint");
        Span<byte> len = stackalloc byte[4];
        f.ReadExactly(len);
        var headerBytes = new byte[BitConverter.ToInt32(len)];
        f.ReadExactly(headerBytes);
        Header h = JsonSerializer.Deserialize<Header>(headerBytes, Json.Options) ?? throw new InvalidDataException($"{path}: empty header");
        if (h.ParamCount != parameters.Length || h.Shape != shape.ToString())
            throw new InvalidDataException($"{path}: checkpoint of shape {h.Shape} ({h.ParamCount} parameters), the config asks for {shape} ({parameters.Length})");
        f.ReadExactly(MemoryMarshal.AsBytes(parameters.AsSpan()));
        f.ReadExactly(MemoryMarshal.AsBytes(opt.M.AsSpan()));
        f.ReadExactly(MemoryMarshal.AsBytes(opt.V.AsSpan()));
        opt.Step = h.OptimizerStep;
        return h.Step;
    }
}
