using System.Runtime.InteropServices;
using LongCtx.Reference;
using LongCtx.Tensors;

namespace LongCtx.Tests.Tensors;

public class GgmlTypeInfoTests
{
    [Fact]
    public void BlockGeometryAndNamesMatchGgml()
    {
        foreach (GgmlType t in Enum.GetValues<GgmlType>())
        {
            Assert.True(GgmlTypeInfo.IsKnown(t));
            Assert.Equal((long)GgmlNative.ggml_blck_size((int)t), GgmlTypeInfo.BlockSize(t));
            Assert.Equal((long)GgmlNative.ggml_type_size((int)t), GgmlTypeInfo.TypeSize(t));
            Assert.Equal(Marshal.PtrToStringAnsi(GgmlNative.ggml_type_name((int)t)), GgmlTypeInfo.Name(t));
        }
    }

    [Theory]
    [InlineData(4u)]
    [InlineData(31u)]
    [InlineData(43u)]
    [InlineData(1000u)]
    public void UnknownIdsAreRecognised(uint id)
    {
        var t = (GgmlType)id;
        Assert.False(GgmlTypeInfo.IsKnown(t));
        Assert.False(GgmlTypeInfo.IsSupported(t));
        Assert.Contains(id.ToString(), Assert.Throws<ArgumentException>(() => GgmlTypeInfo.BlockSize(t)).Message);
    }

    [Fact]
    public void RowSizeComputesBytesAndRejectsPartialBlocks()
    {
        Assert.Equal(144 * 3, GgmlTypeInfo.RowSize(GgmlType.Q4_K, 768));
        Assert.Equal(34 * 2, GgmlTypeInfo.RowSize(GgmlType.Q8_0, 64));
        Assert.Equal(10, GgmlTypeInfo.RowSize(GgmlType.BF16, 5));
        var e = Assert.Throws<ArgumentException>(() => GgmlTypeInfo.RowSize(GgmlType.Q4_K, 300));
        Assert.Contains("q4_K", e.Message);
    }

    [Fact]
    public void SupportedSet()
    {
        GgmlType[] supported = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K];
        foreach (GgmlType t in Enum.GetValues<GgmlType>())
        {
            Assert.Equal(Array.IndexOf(supported, t) >= 0, GgmlTypeInfo.IsSupported(t));
        }
    }

    [Fact]
    public void ParseIsTheInverseOfName()
    {
        foreach (GgmlType t in Enum.GetValues<GgmlType>())
        {
            Assert.Equal(t, GgmlTypeInfo.Parse(GgmlTypeInfo.Name(t)));
        }
        Assert.Equal(GgmlType.Q4_K, GgmlTypeInfo.Parse("Q4_k"));
        var ex = Assert.Throws<ArgumentException>(() => GgmlTypeInfo.Parse("q3_X"));
        Assert.Contains("q3_X", ex.Message);
    }
}
