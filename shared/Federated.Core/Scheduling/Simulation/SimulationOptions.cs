namespace Federated.Core.Scheduling.Simulation;

/// <summary>A virtual federation: its clients' speeds, network, drift and dropouts, and when to stop.</summary>
public sealed record SimulationOptions
{
    public int Clients { get; init; } = 16;

    public ulong Seed { get; init; } = 1;

    public SpeedModel Speeds { get; init; } = new UniformSpeed(0.5, 5);

    /// <summary>σ of the multiplicative random walk on a client's speed, one step per task (0: no drift).</summary>
    public double Drift { get; init; }

    /// <summary>Memory (GiB) the clients report when they ask for work, client i taking [i mod count]; empty: none (for <see cref="RankRule"/>).</summary>
    public IReadOnlyList<double> ClientMemoryGiB { get; init; } = [];

    /// <summary>LoRA ranks handed out in turn by each client's first request, as the server's ledger does (a policy's rank rule or fixed ranks win).</summary>
    public IReadOnlyList<int> Ranks { get; init; } = [8];

    /// <summary>Fixed ranks per client id (the job's client_ranks).</summary>
    public IReadOnlyDictionary<string, int> ClientRanks { get; init; } = new Dictionary<string, int>();

    /// <summary>A task not returned within this many seconds of hand-out expires, as on the server (its task_timeout_seconds; 600 by default).</summary>
    public double TaskTimeoutSeconds { get; init; } = 600;

    /// <summary>Network (download + upload) seconds added to every task.</summary>
    public double NetworkSeconds { get; init; }

    /// <summary>Clients report their compute seconds per step with each update (so the scheduler can tell it from network time).</summary>
    public bool ReportComputeTime { get; init; } = true;

    /// <summary>Chance that a client drops out during a task (its update never arrives).</summary>
    public double DropoutProbability { get; init; }

    /// <summary>Chance that a dropped client never comes back.</summary>
    public double NeverReturnProbability { get; init; }

    /// <summary>Mean seconds (exponential) before a dropped client asks for work again.</summary>
    public double ReturnAfterSeconds { get; init; } = 600;

    /// <summary>Stop after this many aggregations.</summary>
    public long MaxAggregations { get; init; } = 100;

    /// <summary>Stop at this virtual time; null: no limit.</summary>
    public double? MaxVirtualSeconds { get; init; }

    /// <summary>Guard against a policy that never aggregates.</summary>
    public long MaxEvents { get; init; } = 10_000_000;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field.</summary>
    public void Validate()
    {
        Require(Clients >= 1, nameof(Clients), "must be at least 1", Clients);
        ArgumentNullException.ThrowIfNull(Speeds);
        Speeds.Validate();
        for (var i = 0; i < ClientMemoryGiB.Count; i++)
            Require(ClientMemoryGiB[i] > 0 && double.IsFinite(ClientMemoryGiB[i]), $"{nameof(ClientMemoryGiB)}[{i}]", "must be a finite number > 0", ClientMemoryGiB[i]);
        Require(Ranks.Count > 0 && Ranks.All(r => r >= 1), nameof(Ranks), "must be a non-empty list of ranks ≥ 1", string.Join(",", Ranks));
        Require(TaskTimeoutSeconds > 0 && double.IsFinite(TaskTimeoutSeconds), nameof(TaskTimeoutSeconds), "must be a finite number > 0", TaskTimeoutSeconds);
        Require(Drift >= 0 && double.IsFinite(Drift), nameof(Drift), "must be a finite number ≥ 0", Drift);
        Require(NetworkSeconds >= 0 && double.IsFinite(NetworkSeconds), nameof(NetworkSeconds), "must be a finite number ≥ 0", NetworkSeconds);
        Require(DropoutProbability is >= 0 and < 1, nameof(DropoutProbability), "must be in [0, 1)", DropoutProbability);
        Require(NeverReturnProbability is >= 0 and <= 1, nameof(NeverReturnProbability), "must be in [0, 1]", NeverReturnProbability);
        Require(ReturnAfterSeconds >= 0 && double.IsFinite(ReturnAfterSeconds), nameof(ReturnAfterSeconds), "must be a finite number ≥ 0", ReturnAfterSeconds);
        Require(MaxAggregations >= 1, nameof(MaxAggregations), "must be at least 1", MaxAggregations);
        Require(MaxVirtualSeconds is null or > 0, nameof(MaxVirtualSeconds), "must be > 0 when set", MaxVirtualSeconds ?? 0);
        Require(MaxEvents >= 1, nameof(MaxEvents), "must be at least 1", MaxEvents);
    }

    private static void Require(bool ok, string field, string rule, object value)
    {
        if (!ok)
            throw new ArgumentException($"{nameof(SimulationOptions)}.{field} {rule}, got {value}");
    }
}
