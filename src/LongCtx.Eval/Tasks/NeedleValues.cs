using System.Globalization;
using LongCtx.Eval.Text;

namespace LongCtx.Eval.Tasks;

/// <summary>Kind of a needle key or value (RULER's type_needle_k / type_needle_v).</summary>
public enum NeedleKind
{
    /// <summary>7-digit numbers, e.g. 4817302.</summary>
    Numbers,
    /// <summary>adjective-noun words, e.g. curious-lantern.</summary>
    Words,
    /// <summary>random version-4 UUIDs.</summary>
    Uuids,
}

/// <summary>Random needle keys and values as RULER draws them.</summary>
public static class NeedleValues
{
    /// <summary>A random value of <paramref name="kind"/>.</summary>
    public static string Next(NeedleKind kind, EvalRandom rng) => kind switch
    {
        NeedleKind.Numbers => rng.NextInclusive(1_000_000, 9_999_999).ToString(CultureInfo.InvariantCulture),
        NeedleKind.Words => WordLists.AdjectiveNoun(rng),
        NeedleKind.Uuids => Uuid(rng),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown needle kind"),
    };

    /// <summary>The plural noun RULER puts in its templates: numbers, words or uuids.</summary>
    public static string TypeName(NeedleKind kind) => kind switch
    {
        NeedleKind.Numbers => "numbers",
        NeedleKind.Words => "words",
        NeedleKind.Uuids => "uuids",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown needle kind"),
    };

    // Python's uuid.UUID(int=getrandbits(128), version=4): random bits with the version and variant set.
    private static string Uuid(EvalRandom rng)
    {
        ulong hi = rng.NextUInt64(), lo = rng.NextUInt64();
        hi = (hi & ~0xF000UL) | 0x4000UL;
        lo = (lo & ~(0xC000UL << 48)) | (0x8000UL << 48);
        string h = hi.ToString("x16", CultureInfo.InvariantCulture), l = lo.ToString("x16", CultureInfo.InvariantCulture);
        return $"{h[..8]}-{h[8..12]}-{h[12..16]}-{l[..4]}-{l[4..]}";
    }
}
