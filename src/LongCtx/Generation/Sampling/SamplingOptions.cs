namespace LongCtx.Generation.Sampling;

/// <summary>
/// How the next token is chosen. The defaults are llama.cpp's (<c>common_params_sampling</c>), and
/// <see cref="SamplerChain"/> applies them in llama.cpp's default order: logit bias, penalties,
/// top-k, top-p, min-p, temperature, then a seeded random draw.
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>Greedy decoding (temperature 0): always the most likely token.</summary>
    public static SamplingOptions Greedy { get; } = new() { Temperature = 0f };

    /// <summary>Logits are divided by this before the draw; 0 = greedy (argmax). Default 0.8.</summary>
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Keep only the k most likely tokens; 0 = off. Default 40.</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Keep the most likely tokens that together reach this probability, in (0, 1]; 1 = off. Default 0.95.</summary>
    public float TopP { get; init; } = 0.95f;

    /// <summary>Drop tokens less likely than this fraction of the most likely one, in [0, 1]; 0 = off. Default 0.05.</summary>
    public float MinP { get; init; } = 0.05f;

    /// <summary>Top-p and min-p keep at least this many tokens; default 0 (as llama.cpp: they always keep one).</summary>
    public int MinKeep { get; init; }

    /// <summary>Repetition penalty for tokens among the last <see cref="PenaltyLastN"/>; positive, 1 = off (the default).</summary>
    public float RepeatPenalty { get; init; } = 1f;

    /// <summary>Subtracted from a token's logit once per occurrence in the window; 0 = off (the default).</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Subtracted from a token's logit if it occurs in the window at all; 0 = off (the default).</summary>
    public float PresencePenalty { get; init; }

    /// <summary>How many of the latest tokens the penalties look at; 0 = off. Default 64. (llama.cpp's -1, "the whole context", is the caller's to translate.)</summary>
    public int PenaltyLastN { get; init; } = 64;

    /// <summary>Added to the logits of the given token ids before anything else; -∞ bans a token. Default none.</summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }

    /// <summary>Seed of the random draw; the same seed and logits give the same tokens (and llama.cpp's tokens). Null (the default) picks one at random, like llama.cpp's seed -1.</summary>
    public uint? Seed { get; init; }

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of its range; the parameter name is the option's name.</exception>
    public void Validate()
    {
        if (!(Temperature >= 0f) || !float.IsFinite(Temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must be a finite number >= 0 (0 = greedy).");
        }
        if (TopK < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "TopK must be >= 0 (0 = off).");
        }
        if (!(TopP > 0f && TopP <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "TopP must be in (0, 1] (1 = off).");
        }
        if (!(MinP >= 0f && MinP <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(MinP), MinP, "MinP must be in [0, 1] (0 = off).");
        }
        if (MinKeep < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MinKeep), MinKeep, "MinKeep must be >= 0.");
        }
        if (!(RepeatPenalty > 0f) || !float.IsFinite(RepeatPenalty))
        {
            throw new ArgumentOutOfRangeException(nameof(RepeatPenalty), RepeatPenalty, "RepeatPenalty must be a finite number > 0 (1 = off).");
        }
        if (!float.IsFinite(FrequencyPenalty))
        {
            throw new ArgumentOutOfRangeException(nameof(FrequencyPenalty), FrequencyPenalty, "FrequencyPenalty must be finite (0 = off).");
        }
        if (!float.IsFinite(PresencePenalty))
        {
            throw new ArgumentOutOfRangeException(nameof(PresencePenalty), PresencePenalty, "PresencePenalty must be finite (0 = off).");
        }
        if (PenaltyLastN < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(PenaltyLastN), PenaltyLastN, "PenaltyLastN must be >= 0 (0 = off).");
        }
    }
}
