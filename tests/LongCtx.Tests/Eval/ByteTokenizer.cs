using System.Text;
using LongCtx.Eval.Running;

namespace LongCtx.Tests.Eval;

/// <summary>
/// Bytes as token ids for the synthetic vocabulary (its first 256 tokens are the bytes; 298 is BOS,
/// 299 EOS): a real, if unmerged, tokenization the synthetic models accept.
/// </summary>
internal sealed class ByteTokenizer(int? eos = 299) : IEvalTokenizer
{
    public int[] Encode(string text, bool addSpecial, bool parseSpecial)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        return addSpecial ? [298, .. bytes.Select(b => (int)b)] : bytes.Select(b => (int)b).ToArray();
    }

    public string Decode(ReadOnlySpan<int> tokens)
    {
        var bytes = new List<byte>();
        foreach (int t in tokens)
        {
            if (t < 256)
            {
                bytes.Add((byte)t);
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public bool IsEndOfGeneration(int token) => token == eos;
}
