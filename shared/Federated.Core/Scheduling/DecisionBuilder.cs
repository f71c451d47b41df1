namespace Federated.Core.Scheduling;

/// <summary>Collects what one event decides; a client assigned later in the same event is no longer waiting.</summary>
internal sealed class DecisionBuilder
{
    public List<AggregationOrder> Aggregations { get; } = [];

    public List<ScheduledTask> Assignments { get; } = [];

    public List<string> Waiting { get; } = [];

    public List<long> Cancelled { get; } = [];

    public List<RejectedUpdate> Rejected { get; } = [];

    public List<string> Unavailable { get; } = [];

    public ScheduleDecision Build()
    {
        if (Aggregations.Count + Assignments.Count + Waiting.Count + Cancelled.Count + Rejected.Count + Unavailable.Count == 0)
            return ScheduleDecision.None;
        var assigned = Assignments.Select(a => a.ClientId).ToHashSet(StringComparer.Ordinal);
        return new ScheduleDecision
        {
            Aggregations = Aggregations,
            Assignments = Assignments,
            Waiting = Waiting.Where(c => !assigned.Contains(c)).Distinct(StringComparer.Ordinal).ToList(),
            Cancelled = Cancelled,
            Rejected = Rejected,
            Unavailable = Unavailable,
        };
    }
}
