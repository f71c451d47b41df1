using Federated.Contracts.Scheduling;

namespace Federated.Server.Scheduling;

/// <summary>Persisted state of a job's scheduler: the open round and its tasks.</summary>
public sealed class SchedulerState
{
    /// <summary>The round tasks are handed out for (1-based); 0 before the first.</summary>
    public int Round { get; set; }

    public DateTimeOffset RoundStartedAt { get; set; }

    /// <summary>This round's tasks by client id.</summary>
    public Dictionary<string, RoundTask> Tasks { get; set; } = [];

    /// <summary>Ranks given to clients from the job's cycling list, so a client keeps its rank across rounds.</summary>
    public Dictionary<string, int> AssignedRanks { get; set; } = [];

    public int NextRankIndex { get; set; }

    public long TaskCounter { get; set; }
}

public enum RoundTaskStatus
{
    Open,
    Accepted,
    Expired,
}

/// <summary>One client's task in the open round.</summary>
public sealed class RoundTask
{
    public required string TaskId { get; set; }

    public required int Rank { get; set; }

    public required double Alpha { get; set; }

    public required DateTimeOffset IssuedAt { get; set; }

    public required DateTimeOffset Deadline { get; set; }

    public RoundTaskStatus Status { get; set; }

    /// <summary>The accepted update, once the client's upload is stored and counted.</summary>
    public UpdateSubmission? Update { get; set; }
}
