using Federated.Contracts.Clients;
using Federated.Core.Scheduling.Ledger;
using Federated.Server.Clients;

namespace Federated.Server.Scheduling;

/// <summary>
/// Reflects what a job's task ledger did outside it: the client grains' task counts, the dashboard's
/// <see cref="ClientIndex"/> (which clients work on the job or were dropped by it) and the log.
/// </summary>
public sealed partial class SchedulerEffects(string jobId, IClientIndexUpdates index, IGrainFactory grains, ILogger logger)
{
    /// <summary>Carries out the effects in order; true when pollers waiting for work should look again.</summary>
    public async Task<bool> CarryOutAll(IEnumerable<LedgerEffect> effects)
    {
        var changed = false;
        foreach (var effect in effects)
            changed |= await CarryOut(effect);
        return changed;
    }

    /// <summary>Carries out one effect; true when pollers waiting for work should look again.</summary>
    public async Task<bool> CarryOut(LedgerEffect effect)
    {
        switch (effect)
        {
            case TaskIssued issued:
                index.SetJobState(jobId, issued.ClientId, ClientJobState.Working);
                index.RecordAssignment(issued.ClientId, new ClientAssignment(jobId, issued.Rank, issued.Steps, issued.IssuedAt));
                LogAssigned(logger, jobId, issued.StartVersion, issued.ClientId, issued.WireTaskId, issued.Rank, issued.Steps);
                return true;
            case TaskAccepted accepted:
                index.SetJobState(jobId, accepted.ClientId, null);
                LogAccepted(logger, jobId, accepted.WireRound, accepted.ClientId, accepted.Sha256, accepted.Samples);
                await grains.GetGrain<IClientGrain>(accepted.ClientId).RecordTaskCompleted(accepted.WireTaskId, accepted.ReportedSecondsPerStep, accepted.Rank);
                return false;
            case TaskLost lost:
                index.SetJobState(jobId, lost.ClientId, null);
                if (lost.Kind == TaskLossKind.GivenBack)
                    LogGivenBack(logger, jobId, lost.WireRound, lost.ClientId, lost.WireTaskId, lost.Reason);
                else
                    LogClosed(logger, jobId, lost.WireRound, lost.ClientId, lost.WireTaskId, lost.Reason);
                await grains.GetGrain<IClientGrain>(lost.ClientId).RecordTaskExpired(lost.WireTaskId);
                return true;
            case UpdateRefused refused:
                index.SetJobState(jobId, refused.ClientId, null);
                return false;
            case ClientDropped dropped:
                LogUnavailable(logger, jobId, dropped.ClientId, dropped.Policy);
                index.SetJobState(jobId, dropped.ClientId, ClientJobState.Unavailable);
                return false;
            case ClientBack back:
                index.SetJobState(jobId, back.ClientId, null);
                return false;
            default:
                throw new InvalidOperationException($"unknown ledger effect {effect.GetType().Name}");
        }
    }

    /// <summary>The job cannot continue: it ends as failed with the reason, logged; every other job goes on.</summary>
    public async Task<Contracts.Jobs.JobSnapshot> FailJobAsync(Exception reason)
    {
        LogJobFailed(logger, reason, jobId, reason.Message);
        return await grains.GetGrain<Contracts.Jobs.IJobGrain>(jobId).Fail($"its scheduler cannot continue: {reason.Message}");
    }

        /// <summary>Tells the index, after a restart, which clients hold an open task of the job or were dropped by its policy (none for a failed job).</summary>
    public void PublishAll(TaskLedger<Contracts.Scheduling.UpdateSubmission>? ledger)
    {
        var states = new Dictionary<string, ClientJobState>(StringComparer.Ordinal);
        if (ledger is not null)
        {
            foreach (var client in ledger.Policy.State.Clients.Values.Where(c => !c.Available))
                states[client.ClientId] = ClientJobState.Unavailable;
            foreach (var task in ledger.OpenTasks)
            {
                states[task.ClientId] = ClientJobState.Working;
                index.RecordAssignment(task.ClientId, new ClientAssignment(jobId, task.Rank, task.Steps, task.IssuedAt));
            }
        }
        index.ReplaceJob(jobId, states);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} failed: {Reason}")]
    private static partial void LogJobFailed(ILogger logger, Exception exception, string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} version {Version}: aggregation failed; will retry")]
    public static partial void LogAggregationFailed(ILogger logger, Exception exception, string jobId, long version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} from version {Version}: task {TaskId} to client {ClientId} at rank {Rank}, {Steps} steps")]
    private static partial void LogAssigned(ILogger logger, string jobId, long version, string clientId, string taskId, int rank, int steps);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} round {Round}: update {Sha256} from client {ClientId} accepted ({Samples} samples)")]
    private static partial void LogAccepted(ILogger logger, string jobId, int round, string clientId, string sha256, long samples);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} round {Round}: task {TaskId} of client {ClientId} closed: {Reason}")]
    private static partial void LogClosed(ILogger logger, string jobId, int round, string clientId, string taskId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} round {Round}: client {ClientId} gave task {TaskId} back: {Reason}")]
    private static partial void LogGivenBack(ILogger logger, string jobId, int round, string clientId, string taskId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: the {Policy} scheduler marked client {ClientId} unavailable until it asks again")]
    private static partial void LogUnavailable(ILogger logger, string jobId, string clientId, string policy);
}
