namespace Federated.Contracts.Jobs;

/// <summary>A training job (key: job id): owns its configuration, status and the history of global updates.</summary>
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>Validates and stores the configuration and starts the job.</summary>
    Task<JobSnapshot> Create(JobConfig config);

    /// <summary>The job, or NOT_FOUND if it was never created.</summary>
    Task<JobSnapshot> GetSnapshot();

    /// <summary>The job, or null if it was never created (for callers to whom a missing job is not an error).</summary>
    Task<JobSnapshot?> Find();

    /// <summary>Just the status (operators pause, resume and stop jobs); NOT_FOUND if never created.</summary>
    [AlwaysInterleave]
    Task<JobStatusKind> GetStatus();

    /// <summary>Returns when the job's change count passes <paramref name="knownChangeCount"/>, or after <paramref name="timeout"/>.</summary>
    [AlwaysInterleave]
    Task<JobSnapshot> WaitForChange(long knownChangeCount, TimeSpan timeout);

    /// <summary>Appends an aggregated round (called by the job's scheduler). Idempotent per round.</summary>
    Task<JobSnapshot> CommitRound(RoundRecord record);

    /// <summary>Records held-out metrics of the global model after <paramref name="round"/> (0: the base).</summary>
    Task RecordEvaluation(int round, EvaluationSummary metrics);

    /// <summary>Stops handing out tasks until <see cref="Resume"/>; FAILED_PRECONDITION unless running.</summary>
    Task<JobSnapshot> Pause();

    /// <summary>Hands out tasks again after <see cref="Pause"/>; FAILED_PRECONDITION unless paused.</summary>
    Task<JobSnapshot> Resume();

    /// <summary>Ends the job for good; FAILED_PRECONDITION if it has ended already.</summary>
    Task<JobSnapshot> Stop();

    /// <summary>The job cannot go on (its scheduler's state or policy failed): it ends as failed with the reason, and every other job goes on.</summary>
    Task<JobSnapshot> Fail(string reason);

    /// <summary>Records that evaluating the global model after <paramref name="round"/> failed, and why.</summary>
    Task RecordEvaluationFailure(int round, string reason);
}
