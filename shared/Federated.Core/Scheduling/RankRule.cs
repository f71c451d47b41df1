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

    /// <summary>Most tiers a rule may have (each is tried in turn for every rank choice).</summary>
    public const int MaxTiers = 64;

    public void Validate()
    {
        var checks = new SettingChecks("rank rule: ");
        Check(checks);
        checks.ThrowIfAny();
    }

    /// <summary>The rule's checks; <paramref name="c"/> names it "rank rule: " already.</summary>
    internal void Check(SettingChecks c)
    {
        c.Require(DefaultRank >= 1, nameof(DefaultRank), "must be at least 1", DefaultRank);
        c.Require(Tiers.Count <= MaxTiers, nameof(Tiers), $"at most {MaxTiers} tiers", Tiers.Count);
        for (var i = 0; i < Tiers.Count; i++)
        {
            var tier = Tiers[i];
            var t = c.Within($"rank rule: tier {i}: ", $"{nameof(Tiers)}[{i}].");
            t.Require(tier.Rank >= 1, nameof(tier.Rank), "must be at least 1", tier.Rank);
            t.Require(tier.MinMemoryGiB >= 0 && !double.IsInfinity(tier.MinMemoryGiB), nameof(tier.MinMemoryGiB), "must be a finite number ≥ 0", tier.MinMemoryGiB);
            t.Require(tier.MaxSecondsPerStep is not { } max || (max > 0 && double.IsFinite(max)), nameof(tier.MaxSecondsPerStep), "must be a finite number > 0", tier.MaxSecondsPerStep ?? 0);
        }
    }
}

/// <summary>A client at least this large (GiB) and at most this slow (seconds per step; null: any) gets <see cref="Rank"/>.</summary>
public sealed record RankTier(int Rank, double MinMemoryGiB = 0, double? MaxSecondsPerStep = null);
