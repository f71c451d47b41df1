using Federated.Contracts.Errors;
using Federated.Contracts.Evaluation;
using Federated.Contracts.Jobs;
using Federated.Server.Coordination;
using Federated.Server.Hosting;
using Federated.Server.Models;
using Federated.Server.Observability;
using Federated.Server.Storage;
using Microsoft.Extensions.Options;

namespace Federated.Server.Jobs;

/// <summary>
/// Owns one job: its configuration, its status and the append-only history of global updates (each round's
/// stacked adapter, by content hash). The job's scheduler appends rounds; its evaluator adds metrics. Until the job
/// is settled it holds a keep-alive reminder whose ticks ask again for evaluations owed, so one lost with the
/// evaluator's silo (or with the scheduler's, between a round's commit and its request) is still made.
/// </summary>
[GrainType("job")]
public sealed partial class JobGrain(
    [PersistentState("job", StorageNames.State)] IPersistentState<JobState> state,
    BaseModelRegistry models,
    EvaluationSources sources,
    TimeProvider time,
    FederatedMetrics metrics,
    DamagedStateFiles damaged,
    IOptions<ServerOptions> options,
    ILogger<JobGrain> logger) : Grain, IJobGrain, IRemindable
{
    private readonly ChangeSignal _changed = new();
    private KeepAliveReminder _keepAlive = null!;

    private string JobId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _keepAlive = new KeepAliveReminder(this, TimeSpan.FromSeconds(options.Value.KeepAliveSeconds), logger);
        if (!state.RecordExists && damaged.Find(this.GetGrainId()) is { } damage)
            await FailFromDamagedState(damage);
        else if (state.RecordExists)
            RequestOwedEvaluations(afterRestart: true);
        await KeepAliveWhileUnsettled();
        await base.OnActivateAsync(cancellationToken);
    }

    /// <summary>The keep-alive reminder: evaluations still owed are asked for again (the evaluator skips those it has recorded since).</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (state.RecordExists && state.State.EvaluationError is null)
            RequestOwedEvaluations(afterRestart: false); // one that failed is not retried every tick; the next activation tries it once more
        await KeepAliveWhileUnsettled();
    }

    /// <summary>Held while an evaluation may still be owed: the job has an evaluation set and is not settled.</summary>
    private Task KeepAliveWhileUnsettled()
        => _keepAlive.SetAsync(state.RecordExists && !string.IsNullOrEmpty(state.State.Config?.EvaluationDataset) && !Snapshot().IsSettled);

    /// <summary>
    /// The job's own state file did not parse (it was moved aside): its configuration and rounds are unknown, so it
    /// is recorded as failed, naming the file, and every other job goes on. The stored adapters stay in the store.
    /// </summary>
    private async Task FailFromDamagedState(StateDamage damage)
    {
        var reason = $"job '{JobId}': its {damage.Describe()}; its configuration and rounds could not be read";
        state.State = new JobState
        {
            Config = UnknownConfig,
            Status = JobStatusKind.Failed,
            CreatedAt = damage.At,
            Error = reason,
            Events = [new JobEvent(time.GetUtcNow(), $"failed: {reason}")],
            ChangeCount = 1,
        };
        await state.WriteStateAsync();
        metrics.JobStatusChanged(JobId, settled: true);
        LogStatus(logger, JobId, JobStatusKind.Failed);
        // Not awaited: the directory may be the caller (rebuilding its own list) and takes this once it is done.
        _ = GrainFactory.GetGrain<IJobDirectoryGrain>(0).SetActive(JobId, active: false)
            .ContinueWith(t => LogDirectoryNotUpdated(logger, t.Exception!.GetBaseException(), JobId), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Current);
    }

    /// <summary>What a job whose state is lost shows as its configuration: nothing runs under it.</summary>
    private static readonly JobConfig UnknownConfig = new()
    {
        BaseModel = "",
        TargetModules = [],
        Ranks = [],
        Rounds = 0,
        MinClientsPerRound = 0,
        ClientsPerRound = 0,
        LocalSteps = 0,
    };

    /// <summary>
    /// Evaluation follows a round's commit as a one-way call, so a crash between the two, or of the evaluator's silo
    /// during it, leaves a committed round without metrics: each activation (the first after a restart) and each
    /// keep-alive tick asks again for every round, and the base, that has none. The evaluator runs them in order;
    /// one that failed before is tried once more on activation.
    /// </summary>
    private void RequestOwedEvaluations(bool afterRestart)
    {
        var s = state.State;
        if (string.IsNullOrEmpty(s.Config?.EvaluationDataset))
            return;
        var evaluator = GrainFactory.GetGrain<IEvaluatorGrain>(JobId);
        var owed = s.History.Where(r => r.Evaluation is null).Select(r => r.Round).ToList();
        if (s.Baseline is null)
            owed.Insert(0, 0);
        foreach (var round in owed)
        {
            if (afterRestart)
                LogEvaluationOwed(logger, JobId, round);
            else
                LogEvaluationAskedAgain(logger, JobId, round); // usually one in progress, which the evaluator then skips
            _ = evaluator.Evaluate(round); // one-way: queued for the evaluator, never awaited here
        }
    }

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
        await KeepAliveWhileUnsettled();
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
        await KeepAliveWhileUnsettled();
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
        await KeepAliveWhileUnsettled();
        _changed.Notify();
    }

    public async Task RecordEvaluationFailure(int round, string reason)
    {
        await GetSnapshot();
        state.State.EvaluationError = $"evaluation after round {round} failed: {reason}";
        state.State.ChangeCount++;
        await state.WriteStateAsync();
        await KeepAliveWhileUnsettled();
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: round {Round} has no evaluation yet (the server stopped before it was recorded); evaluating it again")]
    private static partial void LogEvaluationOwed(ILogger logger, string jobId, int round);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId}: round {Round} has no evaluation yet; asking the evaluator again in case it was lost with its silo")]
    private static partial void LogEvaluationAskedAgain(ILogger logger, string jobId, int round);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} failed, but the job directory could not be told; it stays listed as active")]
    private static partial void LogDirectoryNotUpdated(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} created: base {BaseModel}, {Rounds} rounds, ranks {Ranks}")]
    private static partial void LogCreated(ILogger logger, string jobId, string baseModel, int rounds, string ranks);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} round {Round} committed: stacked rank {StackedRank} from {Participants} clients, update {Sha256}")]
    private static partial void LogRound(ILogger logger, string jobId, int round, int stackedRank, int participants, string sha256);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} is now {Status}")]
    private static partial void LogStatus(ILogger logger, string jobId, JobStatusKind status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} after round {Round}: held-out loss {Loss:F4}, token accuracy {TokenAccuracy:P1}, exact match {ExactMatch:P1}")]
    private static partial void LogEvaluation(ILogger logger, string jobId, int round, double loss, double tokenAccuracy, double exactMatch);
}
