using Federated.Contracts.Aggregation;
using Federated.Contracts.Errors;
using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;
using Federated.Core.Scheduling.Ledger;
using Federated.Server.Jobs;

namespace Federated.Server.Scheduling;

/// <summary>Turns the ledger's plain records into the grains' contracts: a task as handed out, a committed round.</summary>
public static class LedgerRecords
{
    public static TaskAssignment Assignment(JobSnapshot job, LedgerTask<UpdateSubmission> task) => new()
    {
        TaskId = task.WireTaskId,
        JobId = job.JobId,
        Round = task.WireRound,
        ClientId = task.ClientId,
        Rank = task.Rank,
        Alpha = task.Alpha,
        LocalSteps = task.Steps,
        IssuedAt = task.IssuedAt,
        Deadline = task.Deadline,
        BaseModel = job.Config.BaseModel,
        BaseModelFingerprint = job.Config.BaseModelFingerprint,
        TargetModules = job.Config.TargetModules,
        Hyperparameters = job.Config.Hyperparameters,
        GlobalUpdates = JobHistory.UpdatesFor(job, task.Rank, task.StartVersion),
    };

    /// <summary>Runs a ledger call, turning its refusal into the FAILED_PRECONDITION the client is told.</summary>
    public static T Refusing<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (TaskRefusedException e)
        {
            throw FederatedException.Precondition(e.Message);
        }
    }

    public static AggregationInput[] Inputs(LedgerAggregation<UpdateSubmission> aggregation)
        => [.. aggregation.Contributions.Select(c => new AggregationInput(c.Task.ClientId, c.Task.UpdateSha256!, c.Weight))];

    /// <summary>The job history's entry for a finished aggregation.</summary>
    public static RoundRecord Round(LedgerAggregation<UpdateSubmission> aggregation, AggregationResult result, DateTimeOffset completedAt) => new()
    {
        Round = checked((int)aggregation.Version),
        UpdateSha256 = result.Sha256,
        UpdateBytes = result.SizeBytes,
        StackedRank = result.StackedRank,
        StartedAt = aggregation.Contributions.Min(c => c.Task.IssuedAt),
        CompletedAt = completedAt,
        ClientViews = result.ClientViews,
        Participants = [.. aggregation.Contributions.Select(c => new ParticipantRecord
        {
            ClientId = c.Task.ClientId,
            TaskId = c.Task.WireTaskId,
            Rank = c.Task.Rank,
            Alpha = c.Task.Alpha,
            NumSamples = c.Task.Samples,
            Weight = c.Weight,
            UpdateSha256 = c.Task.UpdateSha256!,
            Stats = c.Task.Update!.Stats,
            Staleness = c.Staleness,
            Steps = c.Task.Steps,
            IssuedAt = c.Task.IssuedAt,
            ArrivedAt = c.Task.ArrivedAt,
            Deadline = c.Task.Deadline,
            Group = c.Task.Group,
        })],
    };
}
