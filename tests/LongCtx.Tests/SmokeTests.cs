namespace LongCtx.Tests;

public class SmokeTests
{
    [Fact]
    public void Builds() => Assert.True(true);

    [Fact, Trait("Category", "Slow")]
    public void SlowIsExcluded() => Assert.Fail("slow tests must not run by default");
}
