namespace LongCtx.KvCache;

/// <summary>A bad KV method spec; the message names the spec, the method, the parameter or value, and lists the valid ones.</summary>
public sealed class KvSpecException(string message) : ArgumentException(message);

/// <summary>One method of a spec: its name and its raw <c>key=value</c> parameters.</summary>
/// <param name="Name">Method name, lower case.</param>
/// <param name="Parameters">Parameters in the order given, keys lower case.</param>
public sealed record KvSpecPart(string Name, IReadOnlyList<KeyValuePair<string, string>> Parameters);

/// <summary>
/// The syntax of KV method specs, one for the CLI, the server and the eval harness:
/// <c>name[:key=value[,key=value]…][+name…]</c>, e.g. <c>snapkv:ratio=0.5,window=64</c>,
/// <c>snapkv:ratio=0.5+int8</c>, <c>quest:budget=1024</c>. Names and keys are case-insensitive.
/// </summary>
public static class KvSpec
{
    /// <summary>Splits a spec into its methods and raw parameters (no name is checked here).</summary>
    /// <exception cref="KvSpecException">Empty spec or method, a parameter without '=', or a repeated key.</exception>
    public static IReadOnlyList<KvSpecPart> Parse(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec))
        {
            throw new KvSpecException("empty KV method spec; expected e.g. 'snapkv:ratio=0.5', 'snapkv:ratio=0.5+int8' or 'quest:budget=1024'");
        }
        var parts = new List<KvSpecPart>();
        foreach (string raw in spec.Split('+'))
        {
            string part = raw.Trim();
            int colon = part.IndexOf(':', StringComparison.Ordinal);
            string name = (colon < 0 ? part : part[..colon]).Trim().ToLowerInvariant();
            if (name.Length == 0)
            {
                throw new KvSpecException($"KV spec '{spec}': a method name is missing (methods are joined by '+', parameters follow ':')");
            }
            var parameters = new List<KeyValuePair<string, string>>();
            if (colon >= 0)
            {
                foreach (string pair in part[(colon + 1)..].Split(','))
                {
                    int eq = pair.IndexOf('=', StringComparison.Ordinal);
                    string key = eq < 0 ? "" : pair[..eq].Trim().ToLowerInvariant();
                    string value = eq < 0 ? "" : pair[(eq + 1)..].Trim();
                    if (key.Length == 0 || value.Length == 0)
                    {
                        throw new KvSpecException($"KV spec '{spec}': '{pair.Trim()}' in {name} is not key=value");
                    }
                    foreach (KeyValuePair<string, string> seen in parameters)
                    {
                        if (seen.Key == key)
                        {
                            throw new KvSpecException($"KV spec '{spec}': {name} sets '{key}' twice");
                        }
                    }
                    parameters.Add(new(key, value));
                }
            }
            parts.Add(new KvSpecPart(name, parameters));
        }
        return parts;
    }
}
