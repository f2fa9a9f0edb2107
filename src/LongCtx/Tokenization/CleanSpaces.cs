namespace LongCtx.Tokenization;

/// <summary>
/// Hugging Face's clean_up_tokenization_spaces as llama.cpp applies it in <c>llama_detokenize</c>:
/// three passes over the bytes that remove the space in " ?", " !", " .", " ,", the spaces around
/// a lone " ' ", and the space before "'s", "'m", "'re", "'ve".
/// </summary>
internal static class CleanSpaces
{
    /// <summary>Cleans <paramref name="text"/> in place and returns its new length.</summary>
    public static int Apply(byte[] text)
    {
        int total = text.Length;

        int n = total;
        total = n > 0 ? 1 : 0;
        for (int i = 1; i < n; i++)
        {
            byte x = text[i];
            if (text[i - 1] == ' ' && x is (byte)'?' or (byte)'!' or (byte)'.' or (byte)',')
            {
                total--;
            }
            text[total++] = x;
        }

        n = total;
        total = n > 0 ? 1 : 0;
        for (int i = 1; i < n; i++)
        {
            byte x = text[i];
            if (x == '\'' && i + 1 < n && text[i - 1] == ' ' && text[i + 1] == ' ')
            {
                total--;
                text[++i] = 0;   // the space after is skipped (and reads as NUL to the next step, as in llama.cpp)
            }
            text[total++] = x;
        }

        n = total;
        total = n > 0 ? 1 : 0;
        for (int i = 1; i < n; i++)
        {
            byte x = text[i];
            if (text[i - 1] == ' ' && x == '\'' && i + 1 < n)
            {
                byte x1 = text[i + 1];
                if (x1 is (byte)'s' or (byte)'m')
                {
                    total--;
                }
                else if (i + 2 < n && ((x1 == 'r' && text[i + 2] == 'e') || (x1 == 'v' && text[i + 2] == 'e')))
                {
                    total--;
                }
            }
            text[total++] = x;
        }
        return total;
    }
}
