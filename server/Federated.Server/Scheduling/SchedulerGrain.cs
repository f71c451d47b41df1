using Federated.Contracts.Aggregation;
using Federated.Contracts.Clients;
using Federated.Contracts.Errors;
using Federated.Contracts.Evaluation;
using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;
using Federated.Server.Coordination;
using Federated.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Federated.Server.Scheduling;

/// <summary>
/// Synchronous rounds: each round hands tasks to up to clients_per_round clients as they ask, and closes
/// when every task handed out has been returned or has expired and at least min_clients_per_round updates
/// are in. A task past its deadline is expired and its place offered to another client, so a dead client
/// never stalls a round. The round's updates are then stacked into one global update and committed to the job.
/// </summary>
[GrainType("scheduler")]
public sealed partial class SchedulerGrain(
    [PersistentState("scheduler", StorageNames.State)] IPersistentState<SchedulerState> state,
    IOptions<ServerOptions> options,
    ILogger<SchedulerGrain> logger) : Grain, ISchedulerGrain
{
    private readonly ChangeSignal _changed = new();
    private JobSnapshot? _job;
    private long _version;

    private string JobId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromSeconds(options.Value.SchedulerTickSeconds);
        this.RegisterGrainTimer(_ => Tick(), new GrainTimerCreationOptions { DueTime = period, Period = period, Interleave = false });
        await base.OnActivateAsync(cancellationToken);
    }

    public async Task<TaskOffer> RequestTask(string clientId)
    {
        var job = await SyncWithJob();
        if (job is null)
            return None($"job '{JobId}' does not exist");
        if (job.Status != JobStatusKind.Running)
            return None($"job '{JobId}' is {job.Status.ToString().ToLowerInvariant()}");

        if (state.State.Tasks.TryGetValue(clientId, out var existing))
        {
            if (existing.Status == RoundTaskStatus.Open)
                return new TaskOffer(Assignment(job, clientId, existing), _version, "");
            if (existing.Status == RoundTaskStatus.Accepted)
                return None($"the update of client '{clientId}' for round {state.State.Round} is in; the round closes when the others return");
        }
        var taken = state.State.Tasks.Values.Count(t => t.Status != RoundTaskStatus.Expired);
        if (taken >= job.Config.ClientsPerRound)
            return None($"round {state.State.Round} has its {job.Config.ClientsPerRound} clients");

        var rank = RankFor(job.Config, clientId);
        var now = DateTimeOffset.UtcNow;
        var task = new RoundTask
        {
            TaskId = $"{JobId}.r{state.State.Round}.{clientId}.{++state.State.TaskCounter}",
            Rank = rank,
            Alpha = job.Config.LoraAlphaPerRank * rank,
            IssuedAt = now,
            Deadline = now + job.Config.TaskTimeout,
        };
        state.State.Tasks[clientId] = task;
        await state.WriteStateAsync();
        LogAssigned(logger, JobId, state.State.Round, clientId, task.TaskId, rank);
        return new TaskOffer(Assignment(job, clientId, task), _version, "");
    }

    public Task WaitForChange(long knownVersion, TimeSpan timeout)
        => _version > knownVersion ? Task.CompletedTask : _changed.WaitAsync(timeout);

    public async Task<TaskAssignment> GetTask(string clientId, string taskId, int round)
    {
        var job = await SyncWithJob() ?? throw FederatedException.NotFound($"job '{JobId}' does not exist");
        return Assignment(job, clientId, FindTask(clientId, taskId, round, acceptedToo: true));
    }

    public async Task<SubmissionReceipt> SubmitUpdate(UpdateSubmission submission)
    {
        await SyncWithJob();
        var task = FindTask(submission.ClientId, submission.TaskId, submission.Round, acceptedToo: true);
        if (task.Status == RoundTaskStatus.Accepted)
        {
            if (task.Update!.Sha256 == submission.Sha256)
                return new SubmissionReceipt(submission.Sha256, Duplicate: true, "this update was accepted before");
            throw FederatedException.Precondition($"task {submission.TaskId} already has an accepted update ({task.Update.Sha256}); a task takes one update");
        }
        task.Status = RoundTaskStatus.Accepted;
        task.Update = submission;
        await state.WriteStateAsync();
        LogAccepted(logger, JobId, state.State.Round, submission.ClientId, submission.Sha256, submission.NumSamples);
        await GrainFactory.GetGrain<IClientGrain>(submission.ClientId).RecordTaskCompleted(task.TaskId, submission.Stats.SecondsPerStep);
        await TryCloseRound();
        return new SubmissionReceipt(submission.Sha256, Duplicate: false, $"accepted for round {submission.Round}");
    }

    public async Task AbandonTask(string clientId, string taskId, int round, string reason)
    {
        await SyncWithJob();
        var task = FindTask(clientId, taskId, round);
        task.Status = RoundTaskStatus.Expired;
        await state.WriteStateAsync();
        LogAbandoned(logger, JobId, state.State.Round, clientId, taskId, reason);
        await GrainFactory.GetGrain<IClientGrain>(clientId).RecordTaskExpired(taskId);
        Changed();
        await TryCloseRound();
    }

    public async Task Tick()
    {
        var job = await SyncWithJob();
        if (job is null || job.Status != JobStatusKind.Running)
            return;
        var now = DateTimeOffset.UtcNow;
        var expired = state.State.Tasks.Where(t => t.Value.Status == RoundTaskStatus.Open && t.Value.Deadline <= now).ToList();
        foreach (var (clientId, task) in expired)
        {
            task.Status = RoundTaskStatus.Expired;
            LogExpired(logger, JobId, state.State.Round, clientId, task.TaskId);
        }
        if (expired.Count > 0)
        {
            await state.WriteStateAsync();
            foreach (var (clientId, task) in expired)
                await GrainFactory.GetGrain<IClientGrain>(clientId).RecordTaskExpired(task.TaskId);
            Changed();
        }
        await TryCloseRound();
    }

    private RoundTask FindTask(string clientId, string taskId, int round, bool acceptedToo = false)
    {
        if (round < state.State.Round)
            throw FederatedException.Precondition($"round {round} of job '{JobId}' has closed; the job is at round {state.State.Round}");
        if (!state.State.Tasks.TryGetValue(clientId, out var task) || task.TaskId != taskId)
            throw FederatedException.Precondition($"client '{clientId}' has no open task {taskId} in round {round} of job '{JobId}'");
        return task.Status switch
        {
            RoundTaskStatus.Open => task,
            RoundTaskStatus.Accepted when acceptedToo => task,
            RoundTaskStatus.Expired => throw FederatedException.Precondition($"task {taskId} expired at {task.Deadline:O}; ask for a new task"),
            _ => throw FederatedException.Precondition($"task {taskId} already has an accepted update"),
        };
    }

    /// <summary>Closes the round when no task is open and enough updates are in: stack, store, commit.</summary>
    private async Task TryCloseRound()
    {
        var job = _job;
        if (job is null || job.Status != JobStatusKind.Running)
            return;
        var tasks = state.State.Tasks;
        if (tasks.Values.Any(t => t.Status == RoundTaskStatus.Open))
            return;
        var accepted = tasks.Where(t => t.Value.Status == RoundTaskStatus.Accepted).OrderBy(t => t.Key, StringComparer.Ordinal).ToList();
        if (accepted.Count < job.Config.MinClientsPerRound)
            return;

        var round = state.State.Round;
        var inputs = accepted.Select(t => new AggregationInput(t.Key, t.Value.Update!.Sha256, job.Config.ClientWeights.GetValueOrDefault(t.Key, t.Value.Update.NumSamples))).ToArray();
        var ranks = job.Config.Ranks.Concat(job.Config.ClientRanks.Values).Concat(state.State.AssignedRanks.Values).Distinct().Order().ToArray();
        AggregationResult result;
        try
        {
            result = await GrainFactory.GetGrain<IAggregatorGrain>(JobId).Aggregate(round, job.Config.AggregationStrategy, inputs, ranks);
        }
        catch (Exception e)
        {
            LogAggregationFailed(logger, e, JobId, round);
            return; // the accepted updates stay; the next tick tries again
        }

        var record = new RoundRecord
        {
            Round = round,
            UpdateSha256 = result.Sha256,
            UpdateBytes = result.SizeBytes,
            StackedRank = result.StackedRank,
            StartedAt = state.State.RoundStartedAt,
            CompletedAt = DateTimeOffset.UtcNow,
            ClientViews = result.ClientViews,
            Participants = accepted.Select((t, i) => new ParticipantRecord
            {
                ClientId = t.Key,
                TaskId = t.Value.TaskId,
                Rank = t.Value.Rank,
                Alpha = t.Value.Alpha,
                NumSamples = t.Value.Update!.NumSamples,
                Weight = result.NormalisedWeights[i],
                UpdateSha256 = t.Value.Update.Sha256,
                Stats = t.Value.Update.Stats,
            }).ToArray(),
        };
        _job = await GrainFactory.GetGrain<IJobGrain>(JobId).CommitRound(record);
        await StartRound(round + 1);
        if (!string.IsNullOrEmpty(job.Config.EvaluationDataset))
            await GrainFactory.GetGrain<IEvaluatorGrain>(JobId).Evaluate(round);
    }

    /// <summary>Loads the job and brings the open round in line with its history (after a restart, say).</summary>
    private async Task<JobSnapshot?> SyncWithJob()
    {
        if (_job is null)
        {
            try
            {
                _job = await GrainFactory.GetGrain<IJobGrain>(JobId).GetSnapshot();
            }
            catch (FederatedException e) when (e.Error == FederatedError.NotFound)
            {
                return null;
            }
        }
        else if (await GrainFactory.GetGrain<IJobGrain>(JobId).GetStatus() is var status && status != _job.Status)
        {
            _job = _job with { Status = status }; // paused, resumed or stopped by an operator
        }
        var next = _job.CompletedRounds + 1;
        if (state.State.Round != next)
            await StartRound(next);
        return _job;
    }

    private async Task StartRound(int round)
    {
        state.State.Round = round;
        state.State.RoundStartedAt = DateTimeOffset.UtcNow;
        state.State.Tasks.Clear();
        await state.WriteStateAsync();
        Changed();
    }

    private int RankFor(JobConfig config, string clientId)
    {
        if (config.ClientRanks.TryGetValue(clientId, out var fixedRank))
            return fixedRank;
        if (!state.State.AssignedRanks.TryGetValue(clientId, out var rank))
        {
            rank = config.Ranks[state.State.NextRankIndex++ % config.Ranks.Length];
            state.State.AssignedRanks[clientId] = rank;
        }
        return rank;
    }

    private static TaskAssignment Assignment(JobSnapshot job, string clientId, RoundTask task) => new()
    {
        TaskId = task.TaskId,
        JobId = job.JobId,
        Round = job.CompletedRounds + 1,
        ClientId = clientId,
        Rank = task.Rank,
        Alpha = task.Alpha,
        LocalSteps = job.Config.LocalSteps,
        IssuedAt = task.IssuedAt,
        Deadline = task.Deadline,
        BaseModel = job.Config.BaseModel,
        BaseModelFingerprint = job.Config.BaseModelFingerprint,
        TargetModules = job.Config.TargetModules,
        Hyperparameters = job.Config.Hyperparameters,
        GlobalUpdates = GlobalUpdatesFor(job, task.Rank),
    };

    /// <summary>The chain of updates a client of this rank merges: each round's view for its rank, or the global update.</summary>
    public static GlobalUpdateRef[] GlobalUpdatesFor(JobSnapshot job, int rank) => job.History.Select(r =>
    {
        var (sha256, bytes, updateRank) = r.UpdateFor(rank);
        return new GlobalUpdateRef(r.Round, sha256, bytes, updateRank);
    }).ToArray();

    private TaskOffer None(string reason) => new(null, _version, reason);

    private void Changed()
    {
        _version++;
        _changed.Notify();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} round {Round}: task {TaskId} to client {ClientId} at rank {Rank}")]
    private static partial void LogAssigned(ILogger logger, string jobId, int round, string clientId, string taskId, int rank);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} round {Round}: update {Sha256} from client {ClientId} accepted ({Samples} samples)")]
    private static partial void LogAccepted(ILogger logger, string jobId, int round, string clientId, string sha256, long samples);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} round {Round}: task {TaskId} of client {ClientId} expired; its place is free")]
    private static partial void LogExpired(ILogger logger, string jobId, int round, string clientId, string taskId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} round {Round}: client {ClientId} gave task {TaskId} back: {Reason}")]
    private static partial void LogAbandoned(ILogger logger, string jobId, int round, string clientId, string taskId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} round {Round}: aggregation failed; will retry")]
    private static partial void LogAggregationFailed(ILogger logger, Exception exception, string jobId, int round);
}
