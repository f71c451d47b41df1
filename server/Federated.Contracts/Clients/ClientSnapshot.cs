namespace Federated.Contracts.Clients;

/// <summary>A client as the server knows it: device, liveness, and measured speed.</summary>
[GenerateSerializer]
[Immutable]
public sealed record ClientSnapshot
{
    [Id(0)]
    public required string ClientId { get; init; }

    [Id(1)]
    public required ClientProfile Profile { get; init; }

    [Id(2)]
    public required DateTimeOffset EnrolledAt { get; init; }

    [Id(3)]
    public required DateTimeOffset LastSeen { get; init; }

    [Id(4)]
    public ClientActivityKind Activity { get; init; }

    [Id(5)]
    public string? CurrentTaskId { get; init; }

    [Id(6)]
    public double Progress { get; init; }

    [Id(7)]
    public int TasksCompleted { get; init; }

    [Id(8)]
    public int TasksExpired { get; init; }

    /// <summary>Seconds per local step, as an exponential moving average over completed tasks.</summary>
    [Id(9)]
    public double? SecondsPerStep { get; init; }

    [Id(10)]
    public ClientAdmission Admission { get; init; }

    /// <summary>The LoRA rank of the client's latest accepted update; null before its first.</summary>
    [Id(11)]
    public int? Rank { get; init; }

    /// <summary>Seconds per local step of its latest accepted updates (at most <c>ClientState.TrendLength</c>), oldest first.</summary>
    [Id(12)]
    public double[] SpeedTrend { get; init; } = [];
}
