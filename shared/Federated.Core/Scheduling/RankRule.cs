namespace Federated.Core.Scheduling;

/// <summary>
/// Chooses a client's LoRA rank from its memory and measured speed: the first tier the client meets, else
/// <see cref="DefaultRank"/>. Rank and steps are sized together: the rank is settled once the speed at it is
/// known, so later step counts are computed from a speed measured at that rank.
/// </summary>
public sealed record RankRule(IReadOnlyList<RankTier> Tiers, int DefaultRank)
{
    public int RankFor(double? memoryGiB, double? secondsPerStep)
    {
        foreach (var tier in Tiers)
        {
            var memoryOk = tier.MinMemoryGiB <= 0 || memoryGiB >= tier.MinMemoryGiB;
            var speedOk = tier.MaxSecondsPerStep is not { } max || secondsPerStep is null || secondsPerStep <= max;
            if (memoryOk && speedOk)
                return tier.Rank;
        }
        return DefaultRank;
    }

    public void Validate()
    {
        if (DefaultRank < 1)
            throw new ArgumentException($"rank rule: DefaultRank must be at least 1, got {DefaultRank}");
        for (var i = 0; i < Tiers.Count; i++)
        {
            var tier = Tiers[i];
            if (tier.Rank < 1)
                throw new ArgumentException($"rank rule: tier {i}: Rank must be at least 1, got {tier.Rank}");
            if (!(tier.MinMemoryGiB >= 0) || double.IsInfinity(tier.MinMemoryGiB))
                throw new ArgumentException($"rank rule: tier {i}: MinMemoryGiB must be a finite number ≥ 0, got {tier.MinMemoryGiB}");
            if (tier.MaxSecondsPerStep is { } max && !(max > 0 && double.IsFinite(max)))
                throw new ArgumentException($"rank rule: tier {i}: MaxSecondsPerStep must be a finite number > 0, got {max}");
        }
    }
}

/// <summary>A client at least this large (GiB) and at most this slow (seconds per step; null: any) gets <see cref="Rank"/>.</summary>
public sealed record RankTier(int Rank, double MinMemoryGiB = 0, double? MaxSecondsPerStep = null);
