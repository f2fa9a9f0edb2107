using System.Text;
using LongCtx.Generation;
using LongCtx.Gguf;
using LongCtx.Models;
using LongCtx.Tensors;

namespace LongCtx.Tests.Gguf;

/// <summary>Each kind of bad input gets an exception that names the file and the key, tensor or limit.</summary>
public sealed class BadInputTests : IDisposable
{
    private static readonly SyntheticShape Tiny = new() { VocabSize = 300, EmbeddingLength = 64, HeadCount = 4, HeadCountKv = 2, FeedForwardLength = 128, ContextLength = 256 };
    private readonly TempDir _dir = new();
    private readonly string _good;

    public BadInputTests()
    {
        _good = _dir.File("good.gguf");
        SyntheticModel.Write(_good, Tiny, GgmlType.F32);
    }

    public void Dispose() => _dir.Dispose();

    private string Mutated(string name, Action<byte[]> mutate, int? length = null)
    {
        byte[] bytes = File.ReadAllBytes(_good);
        if (length is int n)
        {
            bytes = bytes[..n];
        }
        mutate(bytes);
        string path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Copies the good file's metadata and tensors, letting the test drop or replace keys.</summary>
    private string Rewritten(string name, Func<string, bool> keepKey, Action<GgufWriter>? extra = null, Func<string, bool>? keepTensor = null)
    {
        string path = _dir.File(name);
        using (GgufFile src = GgufFile.Open(_good))
        {
            var w = new GgufWriter();
            foreach ((string key, GgufValue value) in src.Metadata)
            {
                if (keepKey(key))
                {
                    w.Add(key, value);
                }
            }
            extra?.Invoke(w);
            foreach (GgufTensorInfo t in src.Tensors)
            {
                if (keepTensor?.Invoke(t.Name) ?? true)
                {
                    w.AddTensor(t.Name, t.Type, t.Shape, src.TensorBytes(t).ToArray());
                }
            }
            w.Write(path);
        }
        return path;
    }

    /// <summary>Overwrites the type id in a tensor's info: name, n_dims (u32), dims (u64 each), type (u32), offset (u64).</summary>
    private string WithTensorType(string name, string tensor, uint typeId) => Mutated(name, b =>
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(tensor);
        int at = b.AsSpan().IndexOf(utf8) + utf8.Length;
        int dims = BitConverter.ToInt32(b, at);
        BitConverter.TryWriteBytes(b.AsSpan(at + 4 + 8 * dims), typeId);
    });

    private static T Fails<T>(string path, params string[] mentions) where T : Exception
    {
        var ex = Assert.Throws<T>(() => Model.Load(path).Dispose());
        Assert.Contains(path, ex.Message);
        foreach (string m in mentions)
        {
            Assert.Contains(m, ex.Message);
        }
        return ex;
    }

    [Fact]
    public void WrongMagic() =>
        Fails<GgufFormatException>(Mutated("magic.gguf", b => b[0] = (byte)'X'), "magic", "GGUF");

    [Theory]
    [InlineData(1u)]
    [InlineData(4u)]
    public void UnsupportedVersion(uint version) =>
        Fails<GgufFormatException>(Mutated($"v{version}.gguf", b => BitConverter.TryWriteBytes(b.AsSpan(4), version)), $"version {version}");

    [Fact]
    public void TruncatedHeader() =>
        Fails<GgufFormatException>(Mutated("short.gguf", _ => { }, length: 200), "truncated");

    [Fact]
    public void TensorDataOutOfBounds()
    {
        long size = new FileInfo(_good).Length;
        Fails<GgufFormatException>(Mutated("cut.gguf", _ => { }, length: (int)size - 100), "beyond the end", "blk.1.ffn_down.weight");
    }

    [Fact]
    public void EveryTruncationIsANamedError()
    {
        byte[] bytes = File.ReadAllBytes(_good);
        for (int cut = 0; cut < bytes.Length; cut += Math.Max(1, bytes.Length / 97))
        {
            string path = _dir.File("trunc.gguf");
            File.WriteAllBytes(path, bytes[..cut]);
            var ex = Assert.ThrowsAny<Exception>(() => Model.Load(path).Dispose());
            Assert.IsType<GgufFormatException>(ex);
            Assert.Contains(path, ex.Message);
        }
    }

    [Fact]
    public void UnknownTensorType() =>
        Fails<GgufFormatException>(WithTensorType("type.gguf", "blk.0.attn_q.weight", 99u), "blk.0.attn_q.weight", "unknown type id 99");

    [Fact]
    public void UnsupportedButKnownTensorType() => // I32 has F32's size, so only the type check can object
        Fails<GgufFormatException>(WithTensorType("i32.gguf", "blk.0.attn_q.weight", (uint)GgmlType.I32), "blk.0.attn_q.weight", "i32");

    [Fact]
    public void UnknownArchitecture()
    {
        string path = Rewritten("arch.gguf", k => k != GgufKeys.Architecture, w => w.Add(GgufKeys.Architecture, "mamba9"));
        Fails<GgufFormatException>(path, "mamba9", GgufKeys.Architecture);
    }

    [Theory]
    [InlineData("llama.block_count")]
    [InlineData("llama.attention.head_count")]
    [InlineData("llama.attention.layer_norm_rms_epsilon")]
    [InlineData("general.architecture")]
    public void MissingRequiredKey(string key) =>
        Fails<GgufFormatException>(Rewritten("missing.gguf", k => k != key), $"'{key}'", "missing");

    [Fact]
    public void MissingTensor() =>
        Fails<GgufFormatException>(Rewritten("notensor.gguf", _ => true, keepTensor: t => t != "blk.1.ffn_up.weight"), "blk.1.ffn_up.weight", "missing");

    [Fact]
    public void MissingFile()
    {
        string path = _dir.File("nope.gguf");
        var ex = Assert.Throws<FileNotFoundException>(() => Model.Load(path));
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void TokenIdOutOfRange()
    {
        using Model model = Model.Load(_good);
        var session = new Session(model, new SessionOptions { ContextSize = 64 });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => session.Prefill([1, 2, Tiny.VocabSize]));
        Assert.Contains($"token id {Tiny.VocabSize}", ex.Message);
        Assert.Contains("good.gguf", ex.Message);
        Assert.Contains($"{Tiny.VocabSize} tokens", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => session.Prefill([-1]));
        Assert.Equal(0, session.Position); // nothing was evaluated
    }

    [Fact]
    public void PromptLongerThanContext()
    {
        using Model model = Model.Load(_good);
        var session = new Session(model, new SessionOptions { ContextSize = 32 });
        var ex = Assert.Throws<ArgumentException>(() => session.Prefill(new int[40]));
        Assert.Contains("context size of 32", ex.Message);
        session.Prefill(new int[30]);
        ex = Assert.Throws<ArgumentException>(() => session.Prefill(new int[3]));
        Assert.Contains("limit 2 more", ex.Message);
        Assert.Equal(30, session.Position);
    }
}
