using Federated.Contracts.Errors;
using Federated.Contracts.Evaluation;
using Federated.Contracts.Jobs;
using Federated.Server.Coordination;
using Federated.Server.Hosting;
using Federated.Server.Models;
using Federated.Server.Observability;

namespace Federated.Server.Jobs;

/// <summary>
/// Owns one job: its configuration, its status and the append-only history of global updates (each round's
/// stacked adapter, by content hash). The job's scheduler appends rounds; its evaluator adds metrics.
/// </summary>
[GrainType("job")]
public sealed partial class JobGrain(
    [PersistentState("job", StorageNames.State)] IPersistentState<JobState> state,
    BaseModelRegistry models,
    EvaluationSources sources,
    TimeProvider time,
    FederatedMetrics metrics,
    ILogger<JobGrain> logger) : Grain, IJobGrain
{
    private readonly ChangeSignal _changed = new();

    private string JobId => this.GetPrimaryKeyString();

    public async Task<JobSnapshot> Create(JobConfig config)
    {
        if (state.RecordExists)
            throw new FederatedException(FederatedError.AlreadyExists, $"job '{JobId}' exists already");
        JobConfigValidator.Validate(config, models, sources);
        var fingerprint = await models.FingerprintAsync(config.BaseModel);
        state.State = new JobState
        {
            Config = config with { BaseModelFingerprint = fingerprint },
            Status = JobStatusKind.Running,
            CreatedAt = time.GetUtcNow(),
            ChangeCount = 1,
        };
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IJobDirectoryGrain>(0).Register(JobId, active: true);
        LogCreated(logger, JobId, config.BaseModel, config.Rounds, string.Join(",", config.Ranks));
        if (!string.IsNullOrEmpty(config.EvaluationDataset))
            await GrainFactory.GetGrain<IEvaluatorGrain>(JobId).Evaluate(0);
        _changed.Notify();
        return Snapshot();
    }

    public Task<JobSnapshot> GetSnapshot()
    {
        if (!state.RecordExists)
            throw FederatedException.NotFound($"job '{JobId}' does not exist");
        return Task.FromResult(Snapshot());
    }

    public Task<JobSnapshot?> Find() => Task.FromResult(state.RecordExists ? Snapshot() : null);

    public Task<JobStatusKind> GetStatus()
        => state.RecordExists ? Task.FromResult(state.State.Status) : throw FederatedException.NotFound($"job '{JobId}' does not exist");

    public async Task<JobSnapshot> WaitForChange(long knownChangeCount, TimeSpan timeout)
    {
        if (state.RecordExists && state.State.ChangeCount <= knownChangeCount)
            await _changed.WaitAsync(timeout);
        return await GetSnapshot();
    }

    public async Task<JobSnapshot> CommitRound(RoundRecord record)
    {
        var job = await GetSnapshot();
        var history = state.State.History;
        if (record.Round <= history.Count)
            return job; // a retried commit: the round is in already
        if (record.Round != history.Count + 1)
            throw FederatedException.Precondition($"job '{JobId}' cannot commit round {record.Round}: the next round is {history.Count + 1}");
        if (job.Status != JobStatusKind.Running)
            throw FederatedException.Precondition($"job '{JobId}' is {job.Status}; no more rounds are taken");

        history.Add(record);
        var completed = history.Count >= job.Config.Rounds;
        if (completed)
            state.State.Status = JobStatusKind.Completed;
        state.State.ChangeCount++;
        await state.WriteStateAsync();
        metrics.RoundCommitted(JobId);
        if (completed)
        {
            metrics.JobStatusChanged(JobId, settled: true);
            await GrainFactory.GetGrain<IJobDirectoryGrain>(0).SetActive(JobId, active: false);
        }
        LogRound(logger, JobId, record.Round, record.StackedRank, record.Participants.Length, record.UpdateSha256);
        _changed.Notify();
        return Snapshot();
    }

    public Task<JobSnapshot> Pause()
        => ChangeStatus(JobStatusKind.Paused, from: JobStatusKind.Running, active: false, "paused by an operator");

    public Task<JobSnapshot> Resume()
        => ChangeStatus(JobStatusKind.Running, from: JobStatusKind.Paused, active: true, "resumed by an operator");

    public async Task<JobSnapshot> Stop()
    {
        var job = await GetSnapshot();
        return await ChangeStatus(JobStatusKind.Stopped, from: job.Status is JobStatusKind.Paused ? JobStatusKind.Paused : JobStatusKind.Running, active: false, "stopped by an operator");
    }

    public async Task<JobSnapshot> Fail(string reason)
    {
        var job = await GetSnapshot();
        if (job.Status is not (JobStatusKind.Running or JobStatusKind.Paused))
            return job; // it ended already
        state.State.Error = reason;
        return await ChangeStatus(JobStatusKind.Failed, from: job.Status, active: false, $"failed: {reason}");
    }

    private async Task<JobSnapshot> ChangeStatus(JobStatusKind to, JobStatusKind from, bool active, string message)
    {
        var job = await GetSnapshot();
        if (job.Status != from)
            throw FederatedException.Precondition($"job '{JobId}' is {job.Status.ToString().ToLowerInvariant()}; only a {from.ToString().ToLowerInvariant()} job can be {to.ToString().ToLowerInvariant()}");
        state.State.Status = to;
        state.State.Events.Add(new JobEvent(time.GetUtcNow(), message));
        state.State.ChangeCount++;
        await state.WriteStateAsync();
        metrics.JobStatusChanged(JobId, settled: Snapshot().IsSettled);
        await GrainFactory.GetGrain<IJobDirectoryGrain>(0).SetActive(JobId, active);
        LogStatus(logger, JobId, to);
        _changed.Notify();
        return Snapshot();
    }

    public async Task RecordEvaluation(int round, EvaluationSummary metrics)
    {
        await GetSnapshot();
        if (round == 0)
        {
            state.State.Baseline = metrics;
        }
        else
        {
            if (round > state.State.History.Count)
                throw FederatedException.Precondition($"job '{JobId}' has no round {round} to attach an evaluation to");
            state.State.History[round - 1] = state.State.History[round - 1] with { Evaluation = metrics };
        }
        state.State.ChangeCount++;
        await state.WriteStateAsync();
        LogEvaluation(logger, JobId, round, metrics.Loss, metrics.TokenAccuracy, metrics.ExactMatch);
        _changed.Notify();
    }

    public async Task RecordEvaluationFailure(int round, string reason)
    {
        await GetSnapshot();
        state.State.EvaluationError = $"evaluation after round {round} failed: {reason}";
        state.State.ChangeCount++;
        await state.WriteStateAsync();
        _changed.Notify();
    }

    private JobSnapshot Snapshot()
    {
        var s = state.State;
        return new JobSnapshot
        {
            JobId = JobId,
            Status = s.Status,
            Config = s.Config!,
            History = [.. s.History],
            Baseline = s.Baseline,
            Error = s.Error,
            EvaluationError = s.EvaluationError,
            CreatedAt = s.CreatedAt,
            ChangeCount = s.ChangeCount,
            Events = [.. s.Events],
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} created: base {BaseModel}, {Rounds} rounds, ranks {Ranks}")]
    private static partial void LogCreated(ILogger logger, string jobId, string baseModel, int rounds, string ranks);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} round {Round} committed: stacked rank {StackedRank} from {Participants} clients, update {Sha256}")]
    private static partial void LogRound(ILogger logger, string jobId, int round, int stackedRank, int participants, string sha256);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} is now {Status}")]
    private static partial void LogStatus(ILogger logger, string jobId, JobStatusKind status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} after round {Round}: held-out loss {Loss:F4}, token accuracy {TokenAccuracy:P1}, exact match {ExactMatch:P1}")]
    private static partial void LogEvaluation(ILogger logger, string jobId, int round, double loss, double tokenAccuracy, double exactMatch);
}
