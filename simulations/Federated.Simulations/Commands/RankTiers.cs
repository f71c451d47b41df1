using System.Globalization;
using Federated.Protos.V1;

namespace Federated.Simulations.Commands;

/// <summary>Parses `--rank-tiers RANK:MIN_GIB[:MAX_SECONDS_PER_STEP],…`.</summary>
public static class RankTiers
{
    public static IReadOnlyList<RankTier> Parse(string? text)
    {
        var tiers = new List<RankTier>();
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = part.Split(':');
            if (fields.Length is < 2 or > 3
                || !int.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var rank)
                || !double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var memory))
            {
                throw new FormatException($"--rank-tiers: '{part}' is not RANK:MIN_GIB[:MAX_SECONDS_PER_STEP] (e.g. 16:16 or 8:8:2.5)");
            }
            var tier = new RankTier { Rank = rank, MinMemoryGib = memory };
            if (fields.Length == 3)
            {
                if (!double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
                    throw new FormatException($"--rank-tiers: '{fields[2]}' in '{part}' is not a number of seconds per step");
                tier.MaxSecondsPerStep = seconds;
            }
            tiers.Add(tier);
        }
        return tiers;
    }
}
