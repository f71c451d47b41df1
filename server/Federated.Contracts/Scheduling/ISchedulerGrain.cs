namespace Federated.Contracts.Scheduling;

/// <summary>
/// Decides who trains what in a job (key: job id): hands out tasks, collects updates, closes rounds.
/// One grain per job, so arrivals and deadlines never race.
/// </summary>
public interface ISchedulerGrain : IGrainWithStringKey
{
    /// <summary>A task for the client, its open task again if it has one, or none with a reason.</summary>
    Task<TaskOffer> RequestTask(string clientId);

    /// <summary>Returns when the scheduler's change count passes <paramref name="knownChangeCount"/> (tasks may be free), or after the timeout.</summary>
    [AlwaysInterleave]
    Task WaitForChange(long knownChangeCount, TimeSpan timeout);

    /// <summary>
    /// The client's task with this id in this round, open or already answered (so a repeated upload can be
    /// recognised as such); FAILED_PRECONDITION if it expired, its round closed, or it never existed.
    /// </summary>
    Task<TaskAssignment> GetTask(string clientId, string taskId, int round);

    /// <summary>Counts a stored update towards its round, and aggregates the round when it is complete.</summary>
    Task<SubmissionReceipt> SubmitUpdate(UpdateSubmission submission);

    /// <summary>The client gives its open task back; its place goes to another client.</summary>
    Task AbandonTask(string clientId, string taskId, int round, string reason);

    /// <summary>
    /// An operator removed the client: its open task in this job is withdrawn and its samples leave the job's
    /// federation weighting. One-way, so the client grain that calls it never waits on this grain (which calls clients).
    /// </summary>
    [OneWay]
    Task ClientRemoved(string clientId);

    /// <summary>Tells the server's client index which clients hold an open task of this job or were dropped by it (after a restart).</summary>
    Task PublishClients();

    /// <summary>Re-checks deadlines and round completion (also run by the grain's timer).</summary>
    Task Tick();
}
