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

    [Fact]
    public void PerSequenceWeightsSumToOneAndTheAlphabetBoundsTheRandomTokens()
    {
        int[] text = Enumerable.Range(0, 5000).Select(i => (i * 7) % 89).ToArray();
        var source = new BatchSource(text, 90, seed: 5, perSequence: true);
        var mix = new Dictionary<string, double> { ["text"] = 1, ["repeat"] = 1, ["recall"] = 1, ["copy"] = 1 };
        Batch a = new(16, 128);
        int[] ta = new int[16];
        source.Fill(a, 3, mix, ta, alphabet: 10);
        for (int s = 0; s < 16; s++)
        {
            Span<float> w = a.Weights.AsSpan(s * 128, 128);
            float sum = 0;
            foreach (float x in w) sum += x;
            Assert.Equal(1f, sum, 1e-4f);
            string task = BatchSource.Tasks[ta[s]];
            if (task is "repeat" or "recall") Assert.All(a.Tokens.AsSpan(s * 128, 128).ToArray(), t => Assert.InRange(t, 0, 9));
            if (task == "copy")
            {
                // the weighted targets repeat the corpus window, one period earlier
                int first = -1;
                for (int i = 0; i < 128 && first < 0; i++) if (w[i] > 0) first = i;
                int period = first + 1;
                for (int i = first; i < 128; i++) Assert.Equal(a.Tokens[s * 128 + i + 1 - period], a.Targets[s * 128 + i]);
            }
        }
        Assert.Contains(Array.IndexOf(BatchSource.Tasks, "copy"), ta);
        Assert.Throws<ArgumentOutOfRangeException>(() => source.Fill(a, 3, mix, ta, alphabet: 91));
    }
}
