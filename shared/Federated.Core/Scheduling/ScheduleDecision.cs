namespace Federated.Core.Scheduling;

/// <summary>
/// What the caller must carry out after one event, in this order: apply <see cref="Aggregations"/> (each makes
/// the next global version), then hand out <see cref="Assignments"/>; clients in <see cref="Waiting"/> are told
/// to wait (a later decision assigns them), tasks in <see cref="Cancelled"/> are withdrawn, updates in
/// <see cref="Rejected"/> are not used, and clients in <see cref="Unavailable"/> were dropped by the scheduler
/// until they ask again.
/// </summary>
public sealed record ScheduleDecision
{
    public IReadOnlyList<AggregationOrder> Aggregations { get; init; } = [];

    public IReadOnlyList<ScheduledTask> Assignments { get; init; } = [];

    public IReadOnlyList<string> Waiting { get; init; } = [];

    public IReadOnlyList<long> Cancelled { get; init; } = [];

    public IReadOnlyList<RejectedUpdate> Rejected { get; init; } = [];

    public IReadOnlyList<string> Unavailable { get; init; } = [];

    public static ScheduleDecision None { get; } = new();
}

/// <summary>
/// Combine these updates into global version <see cref="NewVersion"/>: new = old + Σ weight·update
/// (weights are absolute mixing coefficients, not renormalised; see each policy).
/// </summary>
public sealed record AggregationOrder(long NewVersion, double At, long? GroupId, IReadOnlyList<WeightedUpdate> Updates);

/// <summary>One update in an aggregation; staleness is the version before the aggregation minus <see cref="StartVersion"/>.</summary>
public sealed record WeightedUpdate(long TaskId, string ClientId, long StartVersion, long Staleness, long Samples, double Weight);

/// <summary>An update the scheduler will not use, and why.</summary>
public sealed record RejectedUpdate(long TaskId, string ClientId, string Reason);
