using LongCtx.KvCache;
using LongCtx.KvCache.Presses;
using LongCtx.KvCache.Selectors;

namespace LongCtx.Tests.KvCache;

/// <summary>Method specs: one parser and one registry; every bad spec names what is wrong and what is valid.</summary>
public sealed class KvSpecTests
{
    [Fact]
    public void ParsesAPressWithItsParameters()
    {
        var p = Assert.IsType<SnapKvPress>(KvMethodRegistry.Parse("snapkv:ratio=0.5,window=32").Press);
        Assert.Equal((0.5, 32, 5), (p.Ratio, p.Window, p.Kernel));
        Assert.Equal(0.25, Assert.IsType<SnapKvPress>(KvMethodRegistry.Parse(" SnapKV : Ratio = 0.25 ").Press).Ratio);
    }

    [Fact]
    public void ComposesPressesInOrderWithOneSelector()
    {
        KvMethod m = KvMethodRegistry.Parse("snapkv:ratio=0.5+int8+quest:budget=256");
        var composed = Assert.IsType<ComposedPress>(m.Press);
        Assert.IsType<SnapKvPress>(composed.Presses[0]);
        Assert.Equal(8, Assert.IsType<QuantizePress>(composed.Presses[1]).Format.Bits);
        Assert.Equal(256, Assert.IsType<QuestSelector>(m.Selector).Budget);
        Assert.Equal(new KvObservationNeeds(64, false), composed.Needs);
    }

    [Fact]
    public void AdaKvPassesUnknownParametersToItsScorer()
    {
        var p = Assert.IsType<AdaKvPress>(KvMethodRegistry.Parse("adakv:scorer=knorm,ratio=0.3,alpha=0.1").Press);
        Assert.Equal(0.1, p.Alpha);
        Assert.Equal(0.3, Assert.IsType<KnormPress>(p.Scorer).Ratio);
    }

    [Theory]
    [InlineData("full")]
    [InlineData("None")]
    public void FullMeansNoMethod(string spec)
    {
        KvMethod m = KvMethodRegistry.Parse(spec);
        Assert.Null(m.Press);
        Assert.Null(m.Selector);
    }

    [Fact]
    public void EveryMethodBuildsFromItsDefaultsAndNamesItsPaper()
    {
        foreach (KvMethodInfo info in KvMethodRegistry.All)
        {
            KvMethod m = KvMethodRegistry.Parse(info.Name);
            Assert.True(info.Kind == KvMethodKind.Press ? m.Press != null : m.Selector != null, info.Name);
            Assert.Matches(@"^\d{4}\.\d{5}$", info.Paper);
        }
    }

    [Theory]
    [InlineData("", "empty KV method spec")]
    [InlineData("snapk:ratio=0.5", "unknown method 'snapk'; valid methods: streamingllm, h2o, snapkv,")]
    [InlineData("snapkv:windw=3", "snapkv has no parameter 'windw'; valid: ratio")]
    [InlineData("snapkv:ratio=1", "snapkv.ratio = '1' is invalid; expected a number in [0, 1)")]
    [InlineData("snapkv:ratio=abc", "snapkv.ratio = 'abc' is invalid")]
    [InlineData("snapkv:ratio=NaN", "snapkv.ratio = 'NaN' is invalid")]
    [InlineData("snapkv:ratio", "'ratio' in snapkv is not key=value")]
    [InlineData("snapkv:ratio=0.5,ratio=0.4", "snapkv sets 'ratio' twice")]
    [InlineData("snapkv+", "a method name is missing")]
    [InlineData("quest+tokenselect", "more than one selector (tokenselect)")]
    [InlineData("adakv:scorer=think", "adakv.scorer = 'think' is invalid; expected one of streamingllm")]
    [InlineData("adakv:windw=3", "snapkv has no parameter 'windw'")]
    [InlineData("int8:group=0", "int8.group = '0' is invalid; expected an integer in [1, ∞]")]
    [InlineData("quest:budget=1.5", "quest.budget = '1.5' is invalid")]
    [InlineData("expected_attention:cov=maybe", "expected_attention.cov = 'maybe' is invalid; expected true or false")]
    public void BadSpecsGetNamedErrors(string spec, string message)
    {
        var e = Assert.Throws<KvSpecException>(() => KvMethodRegistry.Parse(spec));
        Assert.Contains(message, e.Message);
        Assert.IsAssignableFrom<ArgumentException>(e); // the CLI prints ArgumentExceptions as one red line
    }
}
