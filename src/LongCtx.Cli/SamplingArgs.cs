using System.CommandLine;
using LongCtx.Generation;
using LongCtx.Generation.Sampling;
using LongCtx.Tokenization;

namespace LongCtx.Cli;

/// <summary>The sampling and stopping options shared by generate and chat, with llama.cpp's names and defaults.</summary>
internal sealed class SamplingArgs
{
    private static readonly SamplingOptions Defaults = new();

    private readonly Option<float> _temp = new("--temp") { Description = "Temperature; 0 = greedy", DefaultValueFactory = _ => Defaults.Temperature };
    private readonly Option<int> _topK = new("--top-k") { Description = "Top-k; 0 = off", DefaultValueFactory = _ => Defaults.TopK };
    private readonly Option<float> _topP = new("--top-p") { Description = "Top-p; 1 = off", DefaultValueFactory = _ => Defaults.TopP };
    private readonly Option<float> _minP = new("--min-p") { Description = "Min-p; 0 = off", DefaultValueFactory = _ => Defaults.MinP };
    private readonly Option<float> _repeatPenalty = new("--repeat-penalty") { Description = "Repetition penalty; 1 = off", DefaultValueFactory = _ => Defaults.RepeatPenalty };
    private readonly Option<int> _repeatLastN = new("--repeat-last-n") { Description = "Tokens the penalties look back over; 0 = off, -1 = the context size", DefaultValueFactory = _ => Defaults.PenaltyLastN };
    private readonly Option<float> _frequencyPenalty = new("--frequency-penalty") { Description = "Frequency penalty; 0 = off", DefaultValueFactory = _ => Defaults.FrequencyPenalty };
    private readonly Option<float> _presencePenalty = new("--presence-penalty") { Description = "Presence penalty; 0 = off", DefaultValueFactory = _ => Defaults.PresencePenalty };
    private readonly Option<uint?> _seed = new("--seed", "-s") { Description = "Random seed (default: a random one); the same seed gives the same text" };
    private readonly Option<string[]> _stop = new("--stop") { Description = "Stop when the text reaches this string (repeatable); the string is not printed" };
    private readonly Option<int> _maxTokens;
    private readonly Option<bool> _ignoreEos = new("--ignore-eos") { Description = "Never stop at (nor generate) end-of-generation tokens" };

    public SamplingArgs(int defaultMaxTokens) =>
        _maxTokens = new("--n-predict", "-n") { Description = "Most tokens to generate", DefaultValueFactory = _ => defaultMaxTokens };

    public void AddTo(Command command)
    {
        foreach (Option o in (Option[])[_temp, _topK, _topP, _minP, _repeatPenalty, _repeatLastN, _frequencyPenalty, _presencePenalty, _seed, _stop, _maxTokens, _ignoreEos])
        {
            command.Options.Add(o);
        }
    }

    /// <summary>The sampler chain the options describe, for a model with <paramref name="vocabSize"/> tokens.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (named).</exception>
    public SamplerChain CreateSampler(ParseResult parse, int vocabSize, int contextSize, IReadOnlyList<int> endOfGeneration)
    {
        int lastN = parse.GetValue(_repeatLastN);
        if (lastN < -1)
        {
            throw new ArgumentOutOfRangeException("--repeat-last-n", lastN, "--repeat-last-n must be >= -1 (-1 = the context size, 0 = off)");
        }
        Dictionary<int, float>? bias = null;
        if (parse.GetValue(_ignoreEos) && endOfGeneration.Count > 0)
        {
            // As llama.cpp's --ignore-eos: the end-of-generation tokens get a logit bias of -inf.
            bias = [];
            foreach (int t in endOfGeneration)
            {
                bias[t] = float.NegativeInfinity;
            }
        }
        var options = new SamplingOptions
        {
            Temperature = parse.GetValue(_temp),
            TopK = parse.GetValue(_topK),
            TopP = parse.GetValue(_topP),
            MinP = parse.GetValue(_minP),
            RepeatPenalty = parse.GetValue(_repeatPenalty),
            PenaltyLastN = lastN == -1 ? contextSize : lastN,
            FrequencyPenalty = parse.GetValue(_frequencyPenalty),
            PresencePenalty = parse.GetValue(_presencePenalty),
            Seed = parse.GetValue(_seed),
            LogitBias = bias,
        };
        return new SamplerChain(options, vocabSize);
    }

    /// <summary>The stop condition: stop strings, the vocabulary's end-of-generation tokens (unless --ignore-eos) and -n.</summary>
    /// <exception cref="ArgumentException">-n is below 1, or a stop string is empty.</exception>
    public StopCondition CreateStop(ParseResult parse, Tokenizer? tokenizer)
    {
        int max = parse.GetValue(_maxTokens);
        if (max < 1)
        {
            throw new ArgumentException($"-n must be at least 1, got {max}");
        }
        IEnumerable<int>? eog = parse.GetValue(_ignoreEos) ? null : tokenizer?.EndOfGenerationTokens;
        return new StopCondition(parse.GetValue(_stop), eog, max);
    }

    /// <summary>End-of-generation tokens of the tokenizer, or none.</summary>
    public static IReadOnlyList<int> EndOfGeneration(Tokenizer? tokenizer) => tokenizer?.EndOfGenerationTokens ?? [];
}
