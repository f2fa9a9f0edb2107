using System.Text.Json;
using LongCtx.Generation.Sampling;
using LongCtx.KvCache;

namespace LongCtx.Server.Api;

/// <summary>The fields /v1/chat/completions and /v1/completions share, read and checked once.</summary>
internal sealed record GenerationParameters(
    string? Model, SamplingOptions Sampling, string[] Stop, int? MaxTokens, bool Stream, bool IncludeUsage, KvMethod? Kv)
{
    /// <summary>OpenAI allows at most four stop sequences.</summary>
    private const int MaxStops = 4;

    public static GenerationParameters Parse(JsonElement root, IReadOnlyList<int> endOfGeneration)
    {
        string? model = OptionalString(root, "model");
        var sampling = new SamplingOptions();
        if (Number(root, "temperature") is double t)
        {
            if (!(t >= 0 && t <= 2))
            {
                throw ApiException.BadParameter("temperature", $"temperature must be between 0 and 2, got {t}.");
            }
            sampling = sampling with { Temperature = (float)t };
        }
        if (Number(root, "top_p") is double p)
        {
            if (!(p > 0 && p <= 1))
            {
                throw ApiException.BadParameter("top_p", $"top_p must be in (0, 1], got {p}.");
            }
            sampling = sampling with { TopP = (float)p };
        }
        if (Number(root, "frequency_penalty") is double fp)
        {
            sampling = sampling with { FrequencyPenalty = Range("frequency_penalty", fp, -2, 2) };
        }
        if (Number(root, "presence_penalty") is double pp)
        {
            sampling = sampling with { PresencePenalty = Range("presence_penalty", pp, -2, 2) };
        }
        if (root.TryGetProperty("seed", out JsonElement seed) && seed.ValueKind != JsonValueKind.Null)
        {
            if (!seed.TryGetInt64(out long s))
            {
                throw ApiException.BadParameter("seed", "seed must be an integer.");
            }
            sampling = sampling with { Seed = unchecked((uint)s) };
        }
        if (root.TryGetProperty("ignore_eos", out JsonElement ie) && ie.ValueKind == JsonValueKind.True)
        {
            // llama.cpp's extension: end-of-generation tokens are banned (logit -inf), so only max_tokens or a stop string ends the answer.
            var bias = new Dictionary<int, float>();
            foreach (int token in endOfGeneration)
            {
                bias[token] = float.NegativeInfinity;
            }
            sampling = sampling with { LogitBias = bias };
        }
        int? maxTokens = PositiveInt(root, "max_completion_tokens") ?? PositiveInt(root, "max_tokens");
        if (PositiveInt(root, "n") is int n && n != 1)
        {
            throw ApiException.BadParameter("n", "Only n = 1 is supported.");
        }
        bool stream = root.TryGetProperty("stream", out JsonElement s1) && s1.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False or JsonValueKind.Null => false,
            _ => throw ApiException.BadParameter("stream", "stream must be a boolean."),
        };
        bool includeUsage = root.TryGetProperty("stream_options", out JsonElement so) && so.ValueKind == JsonValueKind.Object
            && so.TryGetProperty("include_usage", out JsonElement iu) && iu.ValueKind == JsonValueKind.True;

        return new GenerationParameters(model, sampling, Stops(root), maxTokens, stream, includeUsage, ParseKv(root));
    }

    /// <summary>
    /// The extension field <c>"kv"</c>: a KV method spec (<c>snapkv:ratio=0.5</c>, <c>quest:budget=1024</c>,
    /// docs/KV.md), parsed for this request alone (a selector keeps per-session state). Null when
    /// absent or <c>full</c>/<c>none</c>.
    /// </summary>
    private static KvMethod? ParseKv(JsonElement root)
    {
        string? spec = OptionalString(root, "kv");
        if (spec is null || KvMethodRegistry.IsNone(spec))
        {
            return null;
        }
        try
        {
            return KvMethodRegistry.Parse(spec);
        }
        catch (KvSpecException e)
        {
            throw ApiException.BadParameter("kv", $"Bad KV method spec '{spec}': {e.Message}");
        }
    }

    private static string[] Stops(JsonElement root)
    {
        if (!root.TryGetProperty("stop", out JsonElement stop) || stop.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        if (stop.ValueKind == JsonValueKind.String)
        {
            return NonEmpty(stop.GetString()!);
        }
        if (stop.ValueKind != JsonValueKind.Array || stop.GetArrayLength() > MaxStops)
        {
            throw ApiException.BadParameter("stop", $"stop must be a string or an array of at most {MaxStops} strings.");
        }
        var stops = new List<string>();
        foreach (JsonElement item in stop.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw ApiException.BadParameter("stop", "every stop sequence must be a string.");
            }
            stops.AddRange(NonEmpty(item.GetString()!));
        }
        return [.. stops];
    }

    // OpenAI ignores empty stop strings; StopCondition refuses them.
    private static string[] NonEmpty(string s) => s.Length == 0 ? [] : [s];

    public static string? OptionalString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return e.ValueKind == JsonValueKind.String ? e.GetString() : throw ApiException.BadParameter(name, $"{name} must be a string.");
    }

    private static double? Number(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return e.ValueKind == JsonValueKind.Number ? e.GetDouble() : throw ApiException.BadParameter(name, $"{name} must be a number.");
    }

    private static int? PositiveInt(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int value) || value < 1)
        {
            throw ApiException.BadParameter(name, $"{name} must be an integer >= 1.");
        }
        return value;
    }

    private static float Range(string name, double value, double min, double max) =>
        value >= min && value <= max ? (float)value : throw ApiException.BadParameter(name, $"{name} must be between {min} and {max}, got {value}.");
}
