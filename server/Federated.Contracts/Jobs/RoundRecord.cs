namespace Federated.Contracts.Jobs;

/// <summary>One aggregated round: the stacked global update (by content hash) and who made it.</summary>
[GenerateSerializer]
[Immutable]
public sealed record RoundRecord
{
    [Id(0)]
    public required int Round { get; init; }

    [Id(1)]
    public required string UpdateSha256 { get; init; }

    [Id(2)]
    public required long UpdateBytes { get; init; }

    /// <summary>Rank of the global update (for stacking, Σ of the participants' ranks).</summary>
    [Id(3)]
    public required int StackedRank { get; init; }

    [Id(4)]
    public required ParticipantRecord[] Participants { get; init; }

    [Id(5)]
    public required DateTimeOffset StartedAt { get; init; }

    [Id(6)]
    public required DateTimeOffset CompletedAt { get; init; }

    /// <summary>Held-out metrics of the global model after this round, once evaluated.</summary>
    [Id(7)]
    public EvaluationSummary? Evaluation { get; init; }

    /// <summary>For strategies that give clients a rank-limited view of the update: what a client of each rank merges.</summary>
    [Id(8)]
    public ClientViewRecord[] ClientViews { get; init; } = [];

    /// <summary>The update a client training at <paramref name="rank"/> merges for this round.</summary>
    public (string Sha256, long Bytes, int Rank) UpdateFor(int rank)
        => ClientViews.FirstOrDefault(v => v.Rank == rank) is { } view ? (view.Sha256, view.SizeBytes, view.Rank) : (UpdateSha256, UpdateBytes, StackedRank);
}

/// <summary>A stored rank-limited view of a round's global update.</summary>
[GenerateSerializer]
[Immutable]
public sealed record ClientViewRecord(
    [property: Id(0)] int Rank,
    [property: Id(1)] string Sha256,
    [property: Id(2)] long SizeBytes);

/// <summary>One client's accepted contribution to a round.</summary>
[GenerateSerializer]
[Immutable]
public sealed record ParticipantRecord
{
    [Id(0)]
    public required string ClientId { get; init; }

    [Id(1)]
    public required string TaskId { get; init; }

    [Id(2)]
    public required int Rank { get; init; }

    [Id(3)]
    public required double Alpha { get; init; }

    [Id(4)]
    public required long NumSamples { get; init; }

    /// <summary>w_k: this update's weight in the aggregate (new = old + Σ w_k ΔW_k); the sample share for synchronous rounds.</summary>
    [Id(5)]
    public required double Weight { get; init; }

    [Id(6)]
    public required string UpdateSha256 { get; init; }

    [Id(7)]
    public required UpdateStats Stats { get; init; }

    /// <summary>Global versions between the one the task started from and the one before this aggregation.</summary>
    [Id(8)]
    public long Staleness { get; init; }

    /// <summary>Local steps the scheduler assigned.</summary>
    [Id(9)]
    public int Steps { get; init; }

    /// <summary>When the task was handed out, when its update arrived, and the deadline it had (null in records from before they were kept).</summary>
    [Id(10)]
    public DateTimeOffset? IssuedAt { get; init; }

    [Id(11)]
    public DateTimeOffset? ArrivedAt { get; init; }

    [Id(12)]
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>The FedCompass arrival group the task belonged to, if any.</summary>
    [Id(13)]
    public long? Group { get; init; }
}
