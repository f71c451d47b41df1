using Federated.Contracts.Aggregation;
using Federated.Contracts.Evaluation;
using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;
using Federated.Core.Scheduling.Ledger;

namespace Federated.Server.Scheduling;

/// <summary>
/// Commits a job's queued aggregations, oldest first: the aggregator combines each with the ledger's weights, the
/// job appends it as its next round, the ledger marks it done, and the evaluator is told. A failed aggregation stays
/// queued for the next tick, never skipped; orders past the job's end are dropped.
/// </summary>
public sealed class RoundCommitter(string jobId, IGrainFactory grains, TimeProvider time, ILogger logger, Action committed)
{
    /// <summary>The job after the commits; <paramref name="save"/> persists the ledger; each commit signals waiters.</summary>
    public async Task<JobSnapshot> CommitQueuedAsync(JobSnapshot job, TaskLedger<UpdateSubmission> ledger, Func<Task> save)
    {
        while (job.Status == JobStatusKind.Running && ledger.NextAggregation() is { } next)
        {
            await save(); // orders committed before a crash were finished on the way
            AggregationResult result;
            try
            {
                result = await grains.GetGrain<IAggregatorGrain>(jobId).Aggregate((int)next.Version, job.Config.AggregationStrategy, LedgerRecords.Inputs(next), ledger.KnownRanks(), next.TotalWeight);
            }
            catch (Exception e)
            {
                SchedulerEffects.LogAggregationFailed(logger, e, jobId, next.Version);
                break;
            }
            job = await grains.GetGrain<IJobGrain>(jobId).CommitRound(LedgerRecords.Round(next, result, time.GetUtcNow()));
            ledger.Committed(next.Version);
            await save();
            committed();
            if (!string.IsNullOrEmpty(job.Config.EvaluationDataset))
                await grains.GetGrain<IEvaluatorGrain>(jobId).Evaluate((int)next.Version);
        }
        if (job.Status is not (JobStatusKind.Running or JobStatusKind.Paused))
            ledger.DropQueuedAggregations(); // ordered past the job's end (a paused job keeps them for its resumption)
        return job;
    }
}
