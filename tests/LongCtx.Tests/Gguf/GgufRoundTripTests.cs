using LongCtx.Gguf;
using LongCtx.Tensors;

namespace LongCtx.Tests.Gguf;

public sealed class GgufRoundTripTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void EveryValueTypeRoundTrips()
    {
        string path = _dir.File("values.gguf");
        var w = new GgufWriter();
        w.Add("u8", (byte)200).Add("i8", (sbyte)-5).Add("u16", (ushort)60000).Add("i16", (short)-30000)
         .Add("u32", 4000000000u).Add("i32", -2000000000).Add("f32", 1.5f).Add("bool", true)
         .Add("str", "héllo 🌍").Add("u64", ulong.MaxValue).Add("i64", long.MinValue).Add("f64", Math.PI)
         .Add("arr.str", new[] { "a", "", "ü" }).Add("arr.i32", new[] { 1, -2, 3 }).Add("arr.f32", new[] { 0.5f })
         .Add("arr.bool", new[] { true, false }).Add("arr.empty", Array.Empty<int>())
         .Add("arr.nested", new[] { new GgufValue(GgufValueType.Array, new[] { 7u, 8u }, GgufValueType.UInt32) });
        w.Write(path);

        using GgufFile f = GgufFile.Open(path);
        Assert.Equal(3u, f.Version);
        Assert.Equal((byte)200, f.Get("u8").Value);
        Assert.Equal((sbyte)-5, f.Get("i8").Value);
        Assert.Equal((ushort)60000, f.Get("u16").Value);
        Assert.Equal((short)-30000, f.Get("i16").Value);
        Assert.Equal(4000000000u, f.GetUInt32("u32"));
        Assert.Equal(-2000000000, f.Get("i32").Value);
        Assert.Equal(1.5f, f.GetFloat32("f32"));
        Assert.True(f.GetBool("bool", false));
        Assert.Equal("héllo 🌍", f.GetString("str"));
        Assert.Equal(ulong.MaxValue, f.Get("u64").Value);
        Assert.Equal(long.MinValue, f.Get("i64").Value);
        Assert.Equal(Math.PI, f.Get("f64").Value);
        Assert.Equal(new[] { "a", "", "ü" }, f.GetArray<string>("arr.str"));
        Assert.Equal(new[] { 1, -2, 3 }, f.GetArray<int>("arr.i32"));
        Assert.Equal(new[] { 0.5f }, f.GetArray<float>("arr.f32"));
        Assert.Equal(new[] { true, false }, f.GetArray<bool>("arr.bool"));
        Assert.Empty(f.GetArray<int>("arr.empty"));
        GgufValue nested = Assert.Single(f.GetArray<GgufValue>("arr.nested"));
        Assert.Equal(new[] { 7u, 8u }, (uint[])nested.Value);
        Assert.Empty(f.Tensors);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    public void TensorsAreAlignedAndViewedInPlace(int alignment)
    {
        string path = _dir.File($"tensors{alignment}.gguf");
        float[] a = [1, 2, 3];
        float[] b = Enumerable.Range(0, 64).Select(i => i * 0.25f).ToArray();
        new GgufWriter(alignment)
            .AddTensor("a", GgmlType.F32, [3], a)
            .AddTensor("b", GgmlType.F16, [32, 2], b)
            .Write(path);

        using GgufFile f = GgufFile.Open(path);
        Assert.Equal(alignment, f.Alignment);
        Assert.Equal(2, f.Tensors.Count);
        foreach (GgufTensorInfo t in f.Tensors)
        {
            Assert.Equal(0, t.Offset % alignment);
        }
        GgufTensorInfo tb = f.GetTensor("b");
        Assert.Equal(new long[] { 32, 2 }, tb.Shape);
        Assert.Equal(64 * 2, tb.ByteSize);
        var back = new float[64];
        Dequantize.Row(GgmlType.F16, f.TensorBytes(tb), back);
        Assert.Equal(b, back);
        var backA = new float[3];
        Dequantize.Row(GgmlType.F32, f.TensorBytes(f.GetTensor("a")), backA);
        Assert.Equal(a, backA);
    }

    [Fact]
    public void WriterRejectsMismatchedDataAndDuplicates()
    {
        var w = new GgufWriter();
        Assert.Throws<ArgumentException>(() => w.AddTensor("x", GgmlType.F32, [4], new byte[12]));
        w.Add("k", 1);
        Assert.Throws<ArgumentException>(() => w.Add("k", 2));
    }
}
