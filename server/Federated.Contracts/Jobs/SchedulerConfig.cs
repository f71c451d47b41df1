namespace Federated.Contracts.Jobs;

/// <summary>
/// The job's scheduling policy and its settings (Federated.Core.Scheduling). Synchronous rounds take their
/// size, quorum, steps and deadline from the job's clients_per_round, min_clients_per_round, local_steps and
/// task timeout; fedasync and fedbuff take local_steps; fedcompass sizes each task between
/// <see cref="MinSteps"/> and <see cref="MaxSteps"/>. Defaults are FedCompass's published ones.
/// </summary>
[GenerateSerializer]
[Immutable]
public sealed record SchedulerConfig
{
    public const string Synchronous = "synchronous";
    public const string FedAsync = "fedasync";
    public const string FedBuff = "fedbuff";
    public const string FedCompass = "fedcompass";

    public static IReadOnlyList<string> Names { get; } = [FedCompass, Synchronous, FedAsync, FedBuff];

    [Id(0)]
    public string Policy { get; init; } = FedCompass;

    /// <summary>FedCompass Q_min.</summary>
    [Id(1)]
    public int MinSteps { get; init; } = 20;

    /// <summary>FedCompass Q_max (also a new client's first task).</summary>
    [Id(2)]
    public int MaxSteps { get; init; } = 100;

    /// <summary>FedCompass λ: a group's latest time is λ × its expected duration.</summary>
    [Id(3)]
    public double LatestFactor { get; init; } = 1.5;

    /// <summary>α in the weight α·(τ + 1)^(−a)·n_k/N (fedcompass, fedasync; fedbuff under federation weighting).</summary>
    [Id(4)]
    public double StalenessAlpha { get; init; } = 0.9;

    /// <summary>a ≥ 0 in S(τ) = (τ + 1)^(−a), τ the staleness (fedcompass, fedasync, fedbuff).</summary>
    [Id(5)]
    public double StalenessExponent { get; init; } = 0.5;

    /// <summary>FedBuff K: arrivals per aggregation.</summary>
    [Id(6)]
    public int BufferSize { get; init; } = 10;

    /// <summary>FedCompass: deadlines a client may miss in a row before it is marked unavailable.</summary>
    [Id(7)]
    public int MaxMissedDeadlines { get; init; } = 3;

    /// <summary>m in s ← (1 − m)·s + m·measured.</summary>
    [Id(8)]
    public double SpeedMomentum { get; init; } = 0.9;

    /// <summary>Rank from each client's device: the first tier it meets; none met: the job's first rank. Empty: ranks cycle.</summary>
    [Id(9)]
    public RankTierConfig[] RankTiers { get; init; } = [];

    /// <summary>
    /// Update weights of fedasync, fedbuff and fedcompass: "federation" (α·S(τ)·n_k/N over all the job's clients, as
    /// the FedCompass authors' APPFL code) or "batch" (n_k over the aggregation's own updates, the earlier rule).
    /// Empty: the policy's default (federation; synchronous rounds always weigh by the round's samples).
    /// </summary>
    [Id(10)]
    public string Weighting { get; init; } = "";
}

/// <summary>A client with at least this much memory (GiB) and, once measured, at most this many seconds per step gets <see cref="Rank"/>.</summary>
[GenerateSerializer]
[Immutable]
public sealed record RankTierConfig(
    [property: Id(0)] int Rank,
    [property: Id(1)] double MinMemoryGiB,
    [property: Id(2)] double? MaxSecondsPerStep);
