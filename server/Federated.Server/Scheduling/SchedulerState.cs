using Federated.Contracts.Scheduling;

namespace Federated.Server.Scheduling;

/// <summary>
/// Persisted state of a job's scheduler: the policy's own state (Federated.Core.Scheduling, as JSON), the tasks
/// it handed out as clients see them, and aggregations the policy ordered that are not yet committed.
/// </summary>
public sealed class SchedulerState
{
    /// <summary>The policy's <c>SchedulingState</c> as JSON; empty before its first event.</summary>
    public string PolicyState { get; set; } = "";

    /// <summary>Tasks by the policy's task id: open, answered and not yet aggregated, or recently finished.</summary>
    public Dictionary<long, IssuedTask> Issued { get; set; } = [];

    /// <summary>Aggregations ordered by the policy, oldest first, not yet committed to the job.</summary>
    public List<PendingAggregation> Aggregations { get; set; } = [];

    /// <summary>Ranks given to clients from the job's cycling list, so a client keeps its rank.</summary>
    public Dictionary<string, int> AssignedRanks { get; set; } = [];

    public int NextRankIndex { get; set; }
}

public enum IssuedTaskStatus
{
    Open,
    Accepted,
    Aggregated,
    Withdrawn,
}

/// <summary>A task as handed to a client.</summary>
public sealed class IssuedTask
{
    public string TaskId { get; set; } = "";

    public long PolicyTaskId { get; set; }

    public string ClientId { get; set; } = "";

    /// <summary>The global version the task starts from, plus one: the round the client reports.</summary>
    public int Round { get; set; }

    public long StartVersion { get; set; }

    public int Steps { get; set; }

    public int Rank { get; set; }

    public double Alpha { get; set; }

    public DateTimeOffset IssuedAt { get; set; }

    public DateTimeOffset Deadline { get; set; }

    /// <summary>When the accepted update arrived.</summary>
    public DateTimeOffset? ArrivedAt { get; set; }

    /// <summary>The FedCompass arrival group the task was given to, if any.</summary>
    public long? Group { get; set; }

    public IssuedTaskStatus Status { get; set; }

    /// <summary>Why a withdrawn task was withdrawn.</summary>
    public string Reason { get; set; } = "";

    /// <summary>The accepted update, once the client's upload is stored and counted.</summary>
    public UpdateSubmission? Update { get; set; }
}

/// <summary>One aggregation the policy ordered: global version <see cref="Version"/> = previous + Σ weight·update.</summary>
public sealed class PendingAggregation
{
    public long Version { get; set; }

    public DateTimeOffset OrderedAt { get; set; }

    public List<PendingContribution> Updates { get; set; } = [];
}

/// <summary>An update in a pending aggregation and its absolute weight.</summary>
public sealed class PendingContribution
{
    public long PolicyTaskId { get; set; }

    public double Weight { get; set; }

    public long Staleness { get; set; }
}
