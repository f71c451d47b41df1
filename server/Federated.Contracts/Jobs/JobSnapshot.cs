namespace Federated.Contracts.Jobs;

/// <summary>A job as seen from outside: its configuration, status and global update history.</summary>
[GenerateSerializer]
[Immutable]
public sealed record JobSnapshot
{
    [Id(0)]
    public required string JobId { get; init; }

    [Id(1)]
    public required JobStatusKind Status { get; init; }

    [Id(2)]
    public required JobConfig Config { get; init; }

    [Id(3)]
    public required RoundRecord[] History { get; init; }

    /// <summary>Held-out metrics of the base model, before any round.</summary>
    [Id(4)]
    public EvaluationSummary? Baseline { get; init; }

    [Id(5)]
    public string? Error { get; init; }

    [Id(6)]
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The job's change count: increases with every change, for watchers (not a model version; the wire's JobStatus.version).</summary>
    [Id(7)]
    public required long ChangeCount { get; init; }

    /// <summary>Why the last evaluation failed, if it did.</summary>
    [Id(8)]
    public string? EvaluationError { get; init; }

    /// <summary>Operator actions and other status changes, oldest first.</summary>
    [Id(9)]
    public JobEvent[] Events { get; init; } = [];

    public int CompletedRounds => History.Length;

    /// <summary>Nothing more will change: the job has ended and every round that will be evaluated has been.</summary>
    public bool IsSettled => Status is not (JobStatusKind.Running or JobStatusKind.Paused)
        && (string.IsNullOrEmpty(Config.EvaluationDataset) || EvaluationError is not null || History.All(r => r.Evaluation is not null));
}

/// <summary>Something that happened to a job, for its event log.</summary>
[GenerateSerializer]
[Immutable]
public sealed record JobEvent(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string Message);
