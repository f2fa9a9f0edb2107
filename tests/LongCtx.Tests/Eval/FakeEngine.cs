using System.Text.RegularExpressions;
using LongCtx.Eval.Running;

namespace LongCtx.Tests.Eval;

/// <summary>
/// A deterministic engine: answers with the last needle value of the prompt under "full" and with
/// nothing under any "lossy" method; fixed speeds and KV bytes that follow the method's ratio.
/// </summary>
internal sealed partial class FakeEngine(string name) : IEvalEngine, IDisposable
{
    private readonly PieceCounter _counter = new();

    public string ModelName => name;
    public int PromptOverhead => 3;
    public int Calls { get; private set; }
    public bool Disposed { get; private set; }

    public int Count(string text) => _counter.Count(text);

    public void ValidateMethod(string method)
    {
        if (method != "full" && !method.StartsWith("lossy", StringComparison.Ordinal))
        {
            throw new ArgumentException($"unknown KV method '{method}'");
        }
    }

    public EngineResult Generate(string input, string answerPrefix, string method, int maxNewTokens)
    {
        Calls++;
        double ratio = method.StartsWith("lossy:ratio=", StringComparison.Ordinal) ? double.Parse(method[12..], System.Globalization.CultureInfo.InvariantCulture) : 0;
        var values = NeedleValue().Matches(input);
        string text = method == "full" && values.Count > 0 ? " " + values[^1].Groups[1].Value + "." : " I do not know.";
        int prompt = Count(input + answerPrefix) + PromptOverhead;
        return new EngineResult
        {
            Text = text,
            PromptTokens = prompt,
            GeneratedTokens = 4,
            PrefillTokensPerSecond = 1000.0 / 3,
            DecodeTokensPerSecond = 40.5 * (1 + ratio),
            KvBytes = (long)(prompt * 1024 * (1 - ratio)),
        };
    }

    public void Dispose() => Disposed = true;

    [GeneratedRegex(@"is: ([^ \n]+)\.")]
    private static partial Regex NeedleValue();
}
