using LongCtx.Train.Data;
using LongCtx.Train.Model;

namespace LongCtx.Train.Tests;

public sealed class DataTests
{
    [Fact]
    public void BatchesDependOnSeedAndStepOnly()
    {
        int[] text = Enumerable.Range(0, 5000).Select(i => i % 97).ToArray();
        var source = new BatchSource(text, 90, seed: 3);
        var mix = new Dictionary<string, double> { ["text"] = 0.5, ["repeat"] = 0.5 };
        Batch a = new(8, 64), b = new(8, 64);
        int[] ta = new int[8], tb = new int[8];
        source.Fill(a, 12, mix, ta);
        source.Fill(b, 11, mix, tb);
        source.Fill(b, 12, mix, tb);
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.Equal(a.Targets, b.Targets);
        Assert.Equal(a.Weights, b.Weights);
        Assert.Contains(0, ta);
        Assert.Contains(1, ta);
        for (int s = 0; s < 8; s++)
        {
            int o = s * 64;
            if (ta[s] == 0)
            {
                // Text: targets are the next tokens of the corpus, loss everywhere.
                for (int i = 0; i < 63; i++) Assert.Equal(a.Tokens[o + i + 1], a.Targets[o + i]);
                Assert.All(a.Weights.AsSpan(o, 64).ToArray(), w => Assert.Equal(1f, w));
                continue;
            }
            // Repeat: every weighted target is a copy of the token one period earlier; the first period carries no loss.
            int period = Array.IndexOf(a.Weights, 1f, o) - o + 1;
            Assert.InRange(period, 4, 32);
            for (int i = period - 1; i < 64; i++) Assert.Equal(i + 1 - period < 64 ? a.Tokens[o + i + 1 - period] : -1, a.Targets[o + i]);
            Assert.All(a.Tokens.AsSpan(o, 64).ToArray(), t => Assert.InRange(t, 0, 89));
        }
        Assert.Throws<ArgumentException>(() => source.Fill(a, 1, new Dictionary<string, double> { ["nope"] = 1 }, ta));
    }
}
