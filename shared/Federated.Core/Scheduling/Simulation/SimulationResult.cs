namespace Federated.Core.Scheduling.Simulation;

/// <summary>What a simulation did: every task handed out, every aggregation, and where it stopped.</summary>
public sealed record SimulationResult(
    string Policy,
    IReadOnlyList<TaskRecord> Tasks,
    IReadOnlyList<AggregationRecord> Aggregations,
    double EndTime,
    long Events);

public enum TaskOutcome
{
    /// <summary>Still training when the simulation stopped.</summary>
    Running,

    /// <summary>The client dropped out during it.</summary>
    Dropped,

    /// <summary>Withdrawn by the scheduler.</summary>
    Cancelled,

    /// <summary>Not returned within the task timeout; the ledger withdrew it.</summary>
    Expired,

    /// <summary>Arrived and refused by the scheduler.</summary>
    Rejected,

    /// <summary>Arrived, waiting in a group or buffer when the simulation stopped.</summary>
    Pending,

    Applied,
}

/// <summary>One task: who trained it at which rank, when, from which version, and which version applied it.</summary>
public sealed record TaskRecord(
    long TaskId,
    string ClientId,
    double Start,
    double? End,
    int Steps,
    long StartVersion,
    long? AppliedVersion,
    long? Staleness,
    long? GroupId,
    double? Weight,
    TaskOutcome Outcome,
    int Rank = 0);

/// <summary>One aggregation: the version it made, when, and its updates' staleness.</summary>
public sealed record AggregationRecord(long Version, double Time, long? GroupId, int Updates, long Samples, double MeanStaleness, long MaxStaleness);
