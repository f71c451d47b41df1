using System.Text.Json.Serialization;

namespace Federated.Core.Scheduling;

/// <summary>
/// A scheduling policy and its settings, chosen per job; serialisable with a "policy" discriminator
/// (synchronous, fedasync, fedbuff, fedcompass).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "policy")]
[JsonDerivedType(typeof(SynchronousOptions), "synchronous")]
[JsonDerivedType(typeof(FedAsyncOptions), "fedasync")]
[JsonDerivedType(typeof(FedBuffOptions), "fedbuff")]
[JsonDerivedType(typeof(FedCompassOptions), "fedcompass")]
public abstract record SchedulerOptions
{
    /// <summary>m in s ← (1 − m)·s + m·measured, for every client's speed estimate.</summary>
    public double SpeedMomentum { get; init; } = SpeedEstimate.DefaultMomentum;

    /// <summary>Per-client ranks; null leaves <see cref="ScheduledTask.Rank"/> empty (the caller decides).</summary>
    public RankRule? Ranks { get; init; }

    /// <summary>How an update's sample factor is sized (see <see cref="UpdateWeighting"/>); synchronous rounds take only <see cref="UpdateWeighting.Batch"/>.</summary>
    public UpdateWeighting Weighting { get; init; } = UpdateWeighting.Federation;

    /// <summary>Per-client weights that replace a client's sample count n_k wherever it is counted (the job's client_weights).</summary>
    public IReadOnlyDictionary<string, double> ClientWeights { get; init; } = new Dictionary<string, double>();

    /// <summary>A policy with these options, fresh or continuing from a saved <paramref name="state"/>.</summary>
    public abstract ISchedulingPolicy CreatePolicy(SchedulingState? state = null);

    /// <summary>Most local steps a task may ask for: beyond it a typo, not a plan (and int overflow in step arithmetic).</summary>
    public const int MaxLocalSteps = 1_000_000;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field.</summary>
    public void Validate() => Checked().ThrowIfAny();

    /// <summary>Every setting that breaks its rule, in the order checked; empty when the options are valid.</summary>
    public IReadOnlyList<SettingViolation> Violations() => Checked().Found;

    private SettingChecks Checked()
    {
        var checks = new SettingChecks($"{GetType().Name}.");
        Check(checks);
        return checks;
    }

    /// <summary>The policy's rules, the one place they are written (the server's job validator renames, never restates, them).</summary>
    protected virtual void Check(SettingChecks c)
    {
        c.Require(SpeedMomentum is > 0 and <= 1, nameof(SpeedMomentum), "must be in (0, 1]", SpeedMomentum);
        c.Require(Enum.IsDefined(Weighting), nameof(Weighting), $"must be {UpdateWeightings.Federation} or {UpdateWeightings.Batch}", Weighting);
        foreach (var (client, weight) in ClientWeights)
            c.Require(weight > 0 && double.IsFinite(weight), $"{nameof(ClientWeights)}[{client}]", "must be a finite number > 0", weight);
        Ranks?.Check(c.Within("rank rule: ", $"{nameof(Ranks)}."));
    }

    protected static TState StateOf<TState>(SchedulingState? state) where TState : SchedulingState, new() => state switch
    {
        null => new TState(),
        TState typed => typed,
        _ => throw new ArgumentException($"saved scheduler state is {state.GetType().Name}, but the options are for {typeof(TState).Name}"),
    };
}

/// <summary>Synchronous FedAvg rounds with a per-round deadline and a minimum quorum; updates weigh by their share of the round's samples.</summary>
public sealed record SynchronousOptions : SchedulerOptions
{
    public SynchronousOptions() => Weighting = UpdateWeighting.Batch;

    public int ClientsPerRound { get; init; } = 10;

    /// <summary>Fewest updates a round closes with once its deadline has passed.</summary>
    public int MinQuorum { get; init; } = 5;

    public int LocalSteps { get; init; } = 50;

    /// <summary>Seconds from a round's first task to its deadline.</summary>
    public double RoundDeadlineSeconds { get; init; } = 600;

    public override ISchedulingPolicy CreatePolicy(SchedulingState? state = null) => new SynchronousPolicy(this, StateOf<SynchronousState>(state));

    protected override void Check(SettingChecks c)
    {
        base.Check(c);
        c.Require(Weighting == UpdateWeighting.Batch, nameof(Weighting), $"must be {UpdateWeightings.Batch}: a synchronous round is a FedAvg mean over its own updates", UpdateWeightings.Name(Weighting));
        c.Require(ClientsPerRound >= 1, nameof(ClientsPerRound), "must be at least 1", ClientsPerRound);
        c.Require(MinQuorum >= 1 && MinQuorum <= ClientsPerRound, nameof(MinQuorum), $"must be in [1, ClientsPerRound = {ClientsPerRound}]", MinQuorum);
        c.Require(LocalSteps >= 1, nameof(LocalSteps), "must be at least 1", LocalSteps);
        c.Require(RoundDeadlineSeconds > 0 && double.IsFinite(RoundDeadlineSeconds), nameof(RoundDeadlineSeconds), "must be a finite number > 0", RoundDeadlineSeconds);
    }
}

/// <summary>FedAsync (Xie et al., 2019): every update is applied on arrival with weight α·(staleness + 1)^(−a)·w_k (see <see cref="UpdateWeighting"/>).</summary>
public sealed record FedAsyncOptions : SchedulerOptions
{
    public int LocalSteps { get; init; } = 50;

    public double Alpha { get; init; } = 0.9;

    /// <summary>a in S(τ) = (τ + 1)^(−a).</summary>
    public double StalenessExponent { get; init; } = 0.5;

    public override ISchedulingPolicy CreatePolicy(SchedulingState? state = null) => new FedAsyncPolicy(this, StateOf<FedAsyncState>(state));

    protected override void Check(SettingChecks c)
    {
        base.Check(c);
        c.Require(LocalSteps >= 1, nameof(LocalSteps), "must be at least 1", LocalSteps);
        c.Require(Alpha is > 0 and <= 1, nameof(Alpha), "must be in (0, 1]", Alpha);
        c.Require(StalenessExponent is >= 0 and < 100, nameof(StalenessExponent), "must be in [0, 100)", StalenessExponent);
    }
}

/// <summary>
/// FedBuff (Nguyen et al., 2022): updates are buffered and applied K at a time. Federation weighting (as APPFL's
/// fedbuff_aggregator.py): α·S(τ)·n_k/N each; batch weighting (the earlier rule): S(τ)·(share of the buffer's
/// samples), no α. S(τ) = (τ + 1)^(−a) when <see cref="DiscountStaleness"/> is on, else 1.
/// </summary>
public sealed record FedBuffOptions : SchedulerOptions
{
    public int LocalSteps { get; init; } = 50;

    public const int MaxBufferSize = 100_000;

    /// <summary>K: arrivals per aggregation.</summary>
    public int BufferSize { get; init; } = 10;

    /// <summary>α, the reference's mixing rate; used by federation weighting only (batch applies the buffer whole).</summary>
    public double Alpha { get; init; } = 0.9;

    public bool DiscountStaleness { get; init; } = true;

    /// <summary>a in S(τ) = (τ + 1)^(−a).</summary>
    public double StalenessExponent { get; init; } = 0.5;

    public override ISchedulingPolicy CreatePolicy(SchedulingState? state = null) => new FedBuffPolicy(this, StateOf<FedBuffState>(state));

    protected override void Check(SettingChecks c)
    {
        base.Check(c);
        c.Require(LocalSteps >= 1, nameof(LocalSteps), "must be at least 1", LocalSteps);
        c.Require(BufferSize is >= 1 and <= MaxBufferSize, nameof(BufferSize), $"must be between 1 and {MaxBufferSize}", BufferSize);
        c.Require(Alpha is > 0 and <= 1, nameof(Alpha), "must be in (0, 1]", Alpha);
        c.Require(StalenessExponent is >= 0 and < 100, nameof(StalenessExponent), "must be in [0, 100)", StalenessExponent);
    }
}

/// <summary>FedCompass (Li et al., 2024) settings; the defaults are the paper's.</summary>
public sealed record FedCompassOptions : SchedulerOptions
{
    public int MinSteps { get; init; } = 20;

    public int MaxSteps { get; init; } = 100;

    /// <summary>λ: a group's latest time is λ × its expected duration after creation.</summary>
    public double Latest { get; init; } = 1.5;

    public double Alpha { get; init; } = 0.9;

    /// <summary>a in S(τ) = (τ + 1)^(−a).</summary>
    public double StalenessExponent { get; init; } = 0.5;

    public const int MaxMissedDeadlinesLimit = 1_000;

    /// <summary>k: deadlines missed in a row before a client is marked unavailable.</summary>
    public int MaxMissedDeadlines { get; init; } = 3;

    public override ISchedulingPolicy CreatePolicy(SchedulingState? state = null) => new FedCompassPolicy(this, StateOf<FedCompassState>(state));

    protected override void Check(SettingChecks c)
    {
        base.Check(c);
        c.Require(MinSteps >= 1, nameof(MinSteps), "must be at least 1", MinSteps);
        c.Require(MaxSteps >= MinSteps, nameof(MaxSteps), "must be at least {0}", MaxSteps, nameof(MinSteps), MinSteps);
        c.Require(MaxSteps <= MaxLocalSteps, nameof(MaxSteps), $"must be at most {MaxLocalSteps}", MaxSteps);
        c.Require(Latest >= 1 && double.IsFinite(Latest), nameof(Latest), "must be a finite number ≥ 1", Latest);
        c.Require(Alpha is > 0 and <= 1, nameof(Alpha), "must be in (0, 1]", Alpha);
        c.Require(StalenessExponent is >= 0 and < 100, nameof(StalenessExponent), "must be in [0, 100)", StalenessExponent);
        c.Require(MaxMissedDeadlines is >= 1 and <= MaxMissedDeadlinesLimit, nameof(MaxMissedDeadlines), $"must be between 1 and {MaxMissedDeadlinesLimit}", MaxMissedDeadlines);
    }
}
