using Federated.Contracts.Aggregation;
using Federated.Contracts.Clients;
using Federated.Contracts.Errors;
using Federated.Contracts.Evaluation;
using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;
using Federated.Core.Scheduling;
using Federated.Server.Clients;
using Federated.Server.Coordination;
using Federated.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Federated.Server.Scheduling;

/// <summary>
/// Drives the job's scheduling policy (synchronous, fedasync, fedbuff or fedcompass; Federated.Core.Scheduling)
/// with wall time in seconds since the job was created: a request for work is ClientReady, a stored upload is
/// UpdateArrived (with the client's own compute seconds per step), a task given back or past its deadline is
/// ClientLost, and a grain timer fires at the policy's next deadline. The grain is not reentrant, so arrivals
/// and deadlines never race. Each aggregation the policy orders is combined by the aggregator with the policy's
/// absolute weights and committed as the job's next round (round = global version); the job completes after
/// its configured number of rounds. The policy's state is persisted with the grain and survives a restart.
/// Which clients hold an open task, or were dropped by the policy, is pushed to the <see cref="ClientIndex"/>
/// as it changes (the dashboard's per-job client counts).
/// </summary>
[GrainType("scheduler")]
public sealed partial class SchedulerGrain(
    [PersistentState("scheduler", StorageNames.State)] IPersistentState<SchedulerState> state,
    IOptions<ServerOptions> options,
    ClientIndex index,
    ILogger<SchedulerGrain> logger) : Grain, ISchedulerGrain
{
    private readonly ChangeSignal _changed = new();
    private JobSnapshot? _job;
    private ISchedulingPolicy? _policy;
    private IGrainTimer? _deadlineTimer;
    private long _version;

    private string JobId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromSeconds(options.Value.SchedulerTickSeconds);
        this.RegisterGrainTimer(_ => Tick(), new GrainTimerCreationOptions { DueTime = period, Period = period, Interleave = false });
        _deadlineTimer = this.RegisterGrainTimer(_ => Tick(), new GrainTimerCreationOptions { DueTime = Timeout.InfiniteTimeSpan, Period = Timeout.InfiniteTimeSpan, Interleave = false });
        await base.OnActivateAsync(cancellationToken);
    }

    public async Task<TaskOffer> RequestTask(string clientId)
    {
        var job = await SyncWithJob();
        if (job is null)
            return None($"job '{JobId}' does not exist");
        if (job.Status != JobStatusKind.Running)
            return None($"job '{JobId}' is {job.Status.ToString().ToLowerInvariant()}");

        var policy = Policy(job);
        if (policy.State.Clients.TryGetValue(clientId, out var known) && !known.Available)
            index.SetJobState(JobId, clientId, null); // asking again makes a dropped client available
        var memory = job.Config.Scheduler is { RankTiers.Length: > 0 } ? await MemoryGiB(clientId) : null;
        var decision = policy.ClientReady(clientId, Now(job, policy), memory);
        await Apply(job, decision);
        job = _job!;
        if (job.Status != JobStatusKind.Running)
            return None($"job '{JobId}' is {job.Status.ToString().ToLowerInvariant()}");

        var open = state.State.Issued.Values.FirstOrDefault(t => t.ClientId == clientId && t.Status == IssuedTaskStatus.Open);
        if (open is null)
            return None(WaitReason(policy, clientId));
        if (open.StartVersion > job.CompletedRounds)
            return None($"task {open.TaskId} starts from global version {open.StartVersion}, which is being aggregated");
        return new TaskOffer(Assignment(job, open), _version, "");
    }

    public Task WaitForChange(long knownVersion, TimeSpan timeout)
        => _version > knownVersion ? Task.CompletedTask : _changed.WaitAsync(timeout);

    public async Task<TaskAssignment> GetTask(string clientId, string taskId, int round)
    {
        var job = await SyncWithJob() ?? throw FederatedException.NotFound($"job '{JobId}' does not exist");
        return Assignment(job, FindTask(clientId, taskId, round, answeredToo: true));
    }

    public async Task<SubmissionReceipt> SubmitUpdate(UpdateSubmission submission)
    {
        var job = await SyncWithJob() ?? throw FederatedException.NotFound($"job '{JobId}' does not exist");
        var task = FindTask(submission.ClientId, submission.TaskId, submission.Round, answeredToo: true);
        if (task.Status == IssuedTaskStatus.Accepted)
        {
            if (task.Update!.Sha256 == submission.Sha256)
                return new SubmissionReceipt(submission.Sha256, Duplicate: true, "this update was accepted before");
            throw FederatedException.Precondition($"task {submission.TaskId} already has an accepted update ({task.Update.Sha256}); a task takes one update");
        }
        if (job.Status != JobStatusKind.Running)
            throw FederatedException.Precondition($"job '{JobId}' is {job.Status.ToString().ToLowerInvariant()}; no more updates are taken");

        var policy = Policy(job);
        var report = new UpdateReport(submission.ClientId, task.PolicyTaskId, Now(job, policy), submission.NumSamples, ComputeSecondsPerStep(submission.Stats, task.Steps));
        var decision = policy.UpdateArrived(report);
        if (decision.Rejected.FirstOrDefault(r => r.TaskId == task.PolicyTaskId) is { } rejected)
        {
            Withdraw(task, rejected.Reason);
            await Apply(job, decision);
            throw FederatedException.Precondition($"task {task.TaskId}: {rejected.Reason}; ask for a new task");
        }
        task.Status = IssuedTaskStatus.Accepted;
        index.SetJobState(JobId, task.ClientId, null);
        task.Update = submission;
        task.ArrivedAt = DateTimeOffset.UtcNow;
        LogAccepted(logger, JobId, task.Round, submission.ClientId, submission.Sha256, submission.NumSamples);
        await GrainFactory.GetGrain<IClientGrain>(submission.ClientId).RecordTaskCompleted(task.TaskId, submission.Stats.SecondsPerStep, task.Rank);
        await Apply(job, decision, persist: true);
        return new SubmissionReceipt(submission.Sha256, Duplicate: false, $"accepted ({policy.Name}, task from version {task.StartVersion})");
    }

    public async Task AbandonTask(string clientId, string taskId, int round, string reason)
    {
        var job = await SyncWithJob() ?? throw FederatedException.NotFound($"job '{JobId}' does not exist");
        var task = FindTask(clientId, taskId, round);
        LogAbandoned(logger, JobId, task.Round, clientId, taskId, reason);
        await Lose(job, task, $"given back: {reason}");
    }

    public async Task PublishClients()
    {
        var job = await SyncWithJob();
        var states = new Dictionary<string, ClientJobState>(StringComparer.Ordinal);
        if (job is not null && _policy is { } policy)
        {
            foreach (var client in policy.State.Clients.Values.Where(c => !c.Available))
                states[client.ClientId] = ClientJobState.Unavailable;
        }
        foreach (var task in state.State.Issued.Values.Where(t => t.Status == IssuedTaskStatus.Open))
        {
            states[task.ClientId] = ClientJobState.Working;
            index.RecordAssignment(task.ClientId, new ClientAssignment(JobId, task.Rank, task.Steps, task.IssuedAt));
        }
        index.ReplaceJob(JobId, states);
    }

    public async Task Tick()
    {
        var job = await SyncWithJob();
        if (job is null || job.Status != JobStatusKind.Running)
            return;
        var policy = Policy(job);
        var now = Now(job, policy);
        if (policy.NextDeadline <= now)
            await Apply(job, policy.TimerFired(now));

        var wall = DateTimeOffset.UtcNow;
        foreach (var task in state.State.Issued.Values.Where(t => t.Status == IssuedTaskStatus.Open && t.Deadline <= wall).ToList())
        {
            if (_job!.Status != JobStatusKind.Running)
                break;
            if (task.Status != IssuedTaskStatus.Open)
                continue; // withdrawn by what an earlier expiry set off
            LogExpired(logger, JobId, task.Round, task.ClientId, task.TaskId);
            await Lose(_job, task, $"expired at its deadline {task.Deadline:O}");
        }
        await RunAggregations();
        ArmDeadlineTimer();
    }

    /// <summary>A client's open task will not come back: the policy hears the client is lost.</summary>
    private async Task Lose(JobSnapshot job, IssuedTask task, string reason)
    {
        Withdraw(task, reason);
        var policy = Policy(job);
        var decision = policy.ClientLost(task.ClientId, Now(job, policy));
        await GrainFactory.GetGrain<IClientGrain>(task.ClientId).RecordTaskExpired(task.TaskId);
        await Apply(job, decision, persist: true);
    }

    /// <summary>
    /// Carries out a decision: withdraws cancelled tasks, records new tasks, queues aggregations, persists it
    /// all with the policy's state, then aggregates and commits what is queued.
    /// </summary>
    private async Task Apply(JobSnapshot job, ScheduleDecision decision, bool persist = false)
    {
        var expired = new List<IssuedTask>();
        foreach (var id in decision.Cancelled)
        {
            if (state.State.Issued.TryGetValue(id, out var task) && task.Status == IssuedTaskStatus.Open)
            {
                Withdraw(task, $"expired: the {_policy!.Name} scheduler withdrew it when its deadline passed");
                expired.Add(task);
            }
        }
        var issued = false;
        foreach (var assignment in decision.Assignments)
        {
            if (state.State.Issued.ContainsKey(assignment.TaskId))
                continue; // the open task, offered again
            Issue(job, assignment);
            issued = true;
        }
        var now = DateTimeOffset.UtcNow;
        foreach (var order in decision.Aggregations)
        {
            state.State.Aggregations.Add(new PendingAggregation
            {
                Version = order.NewVersion,
                OrderedAt = now,
                Updates = [.. order.Updates.Select(u => new PendingContribution { PolicyTaskId = u.TaskId, Weight = u.Weight, Staleness = u.Staleness })],
            });
        }
        foreach (var clientId in decision.Unavailable)
        {
            LogUnavailable(logger, JobId, clientId, _policy!.Name);
            index.SetJobState(JobId, clientId, ClientJobState.Unavailable);
        }

        if (persist || issued || expired.Count > 0 || decision.Aggregations.Count > 0 || decision.Unavailable.Count > 0 || decision.Rejected.Count > 0)
        {
            state.State.PolicyState = SchedulerPolicies.Serialise(_policy!.State);
            await state.WriteStateAsync();
        }
        foreach (var task in expired)
        {
            LogExpired(logger, JobId, task.Round, task.ClientId, task.TaskId);
            await GrainFactory.GetGrain<IClientGrain>(task.ClientId).RecordTaskExpired(task.TaskId);
        }
        if (issued || expired.Count > 0)
            Changed();
        await RunAggregations();
        ArmDeadlineTimer();
    }

    private void Issue(JobSnapshot job, ScheduledTask assignment)
    {
        // A client's finished tasks are kept until its next one, so a repeated upload gets a clear answer.
        foreach (var old in state.State.Issued.Values.Where(t => t.ClientId == assignment.ClientId && t.Status is IssuedTaskStatus.Withdrawn or IssuedTaskStatus.Aggregated).ToList())
            state.State.Issued.Remove(old.PolicyTaskId);
        var rank = job.Config.ClientRanks.TryGetValue(assignment.ClientId, out var named) ? named : assignment.Rank ?? RankFor(job.Config, assignment.ClientId);
        var issuedAt = DateTimeOffset.UtcNow;
        var deadline = issuedAt + job.Config.TaskTimeout;
        // Synchronous rounds withdraw open tasks at the round's deadline; the other policies keep a late task
        // open (fedcompass applies it with the next group), so the client may upload until the task timeout.
        if (_policy is SynchronousPolicy && assignment.Deadline is { } due && WallTime(job, due) < deadline)
            deadline = WallTime(job, due);
        var task = new IssuedTask
        {
            TaskId = $"{JobId}.t{assignment.TaskId}.{assignment.ClientId}",
            PolicyTaskId = assignment.TaskId,
            ClientId = assignment.ClientId,
            Round = (int)assignment.StartVersion + 1,
            StartVersion = assignment.StartVersion,
            Steps = assignment.LocalSteps,
            Rank = rank,
            Alpha = job.Config.LoraAlphaPerRank * rank,
            IssuedAt = issuedAt,
            Deadline = deadline,
            Group = assignment.GroupId,
        };
        state.State.Issued[task.PolicyTaskId] = task;
        index.SetJobState(JobId, task.ClientId, ClientJobState.Working);
        index.RecordAssignment(task.ClientId, new ClientAssignment(JobId, task.Rank, task.Steps, task.IssuedAt));
        LogAssigned(logger, JobId, task.StartVersion, task.ClientId, task.TaskId, task.Rank, task.Steps);
    }

    private void Withdraw(IssuedTask task, string reason)
    {
        task.Status = IssuedTaskStatus.Withdrawn;
        task.Reason = reason;
        index.SetJobState(JobId, task.ClientId, null);
    }

    /// <summary>Aggregates and commits the queued aggregations in order; a failure leaves them queued for the next tick.</summary>
    private async Task RunAggregations()
    {
        while (state.State.Aggregations.Count > 0 && _job is { Status: JobStatusKind.Running } job)
        {
            var order = state.State.Aggregations[0];
            var round = (int)order.Version;
            if (round <= job.CompletedRounds)
            {
                await Finish(order); // committed before a crash
                continue;
            }
            // Inputs in client order, not arrival order, so a round's stacked layout does not depend on timing.
            var contributions = order.Updates.OrderBy(u => state.State.Issued[u.PolicyTaskId].ClientId, StringComparer.Ordinal).ThenBy(u => u.PolicyTaskId).ToList();
            var tasks = contributions.Select(u => state.State.Issued[u.PolicyTaskId]).ToList();
            var weights = Reweighted(job.Config, contributions, tasks);
            var inputs = tasks.Select((t, i) => new AggregationInput(t.ClientId, t.Update!.Sha256, weights[i])).ToArray();
            var ranks = job.Config.Ranks.Concat(job.Config.ClientRanks.Values).Concat(state.State.AssignedRanks.Values)
                .Concat(state.State.Issued.Values.Select(t => t.Rank)).Distinct().Order().ToArray();
            AggregationResult result;
            try
            {
                result = await GrainFactory.GetGrain<IAggregatorGrain>(JobId).Aggregate(round, job.Config.AggregationStrategy, inputs, ranks, weights.Sum());
            }
            catch (Exception e)
            {
                LogAggregationFailed(logger, e, JobId, round);
                return;
            }
            var record = new RoundRecord
            {
                Round = round,
                UpdateSha256 = result.Sha256,
                UpdateBytes = result.SizeBytes,
                StackedRank = result.StackedRank,
                StartedAt = tasks.Min(t => t.IssuedAt),
                CompletedAt = DateTimeOffset.UtcNow,
                ClientViews = result.ClientViews,
                Participants = [.. tasks.Select((t, i) => new ParticipantRecord
                {
                    ClientId = t.ClientId,
                    TaskId = t.TaskId,
                    Rank = t.Rank,
                    Alpha = t.Alpha,
                    NumSamples = t.Update!.NumSamples,
                    Weight = weights[i],
                    UpdateSha256 = t.Update.Sha256,
                    Stats = t.Update.Stats,
                    Staleness = contributions[i].Staleness,
                    Steps = t.Steps,
                    IssuedAt = t.IssuedAt,
                    ArrivedAt = t.ArrivedAt,
                    Deadline = t.Deadline,
                    Group = t.Group,
                })],
            };
            _job = await GrainFactory.GetGrain<IJobGrain>(JobId).CommitRound(record);
            await Finish(order);
            Changed();
            if (!string.IsNullOrEmpty(job.Config.EvaluationDataset))
                await GrainFactory.GetGrain<IEvaluatorGrain>(JobId).Evaluate(round);
        }
        if (state.State.Aggregations.Count > 0 && _job is { Status: not JobStatusKind.Running })
        {
            state.State.Aggregations.Clear(); // ordered past the job's last round
            await state.WriteStateAsync();
        }
    }

    private async Task Finish(PendingAggregation order)
    {
        foreach (var update in order.Updates)
        {
            if (state.State.Issued.TryGetValue(update.PolicyTaskId, out var task))
                task.Status = IssuedTaskStatus.Aggregated;
        }
        state.State.Aggregations.RemoveAt(0);
        await state.WriteStateAsync();
    }

    /// <summary>
    /// The policy's weights w_k = f(staleness)·share_k use sample shares; a job's client_weights replace a client's
    /// sample count, so its share is recomputed and f kept.
    /// </summary>
    private static double[] Reweighted(JobConfig config, List<PendingContribution> updates, List<IssuedTask> tasks)
    {
        var weights = updates.Select(u => u.Weight).ToArray();
        if (config.ClientWeights.Count == 0 || !tasks.Any(t => config.ClientWeights.ContainsKey(t.ClientId)))
            return weights;
        double samples = tasks.Sum(t => (double)t.Update!.NumSamples);
        var custom = tasks.Select(t => config.ClientWeights.GetValueOrDefault(t.ClientId, t.Update!.NumSamples)).ToArray();
        var total = custom.Sum();
        return [.. weights.Select((w, i) => w / (tasks[i].Update!.NumSamples / samples) * (custom[i] / total))];
    }

    private IssuedTask FindTask(string clientId, string taskId, int round, bool answeredToo = false)
    {
        var task = state.State.Issued.Values.FirstOrDefault(t => t.TaskId == taskId && t.ClientId == clientId);
        if (task is null || task.Round != round)
            throw FederatedException.Precondition($"client '{clientId}' has no open task {taskId} in round {round} of job '{JobId}' (finished, superseded, or never issued); ask for a new task");
        return task.Status switch
        {
            IssuedTaskStatus.Open => task,
            IssuedTaskStatus.Accepted when answeredToo => task,
            IssuedTaskStatus.Aggregated => throw FederatedException.Precondition($"round {round} of job '{JobId}' has closed: the update of task {taskId} is aggregated; ask for a new task"),
            IssuedTaskStatus.Withdrawn => throw FederatedException.Precondition($"task {taskId} is closed: {task.Reason}; ask for a new task"),
            _ => throw FederatedException.Precondition($"task {taskId} already has an accepted update"),
        };
    }

    /// <summary>Loads the job (once per activation); commits aggregations a crash left queued.</summary>
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
            if (_job.Status == JobStatusKind.Running)
            {
                Policy(_job);
                await RunAggregations();
                ArmDeadlineTimer();
            }
        }
        else if (await GrainFactory.GetGrain<IJobGrain>(JobId).GetStatus() is var status && status != _job.Status)
        {
            _job = _job with { Status = status }; // paused, resumed or stopped by an operator
            if (status == JobStatusKind.Running)
            {
                Policy(_job);
                await RunAggregations();
                ArmDeadlineTimer();
            }
        }
        return _job;
    }

    /// <summary>The job's policy, restored from the saved state on first use.</summary>
    private ISchedulingPolicy Policy(JobSnapshot job)
    {
        if (_policy is not null)
            return _policy;
        var saved = SchedulerPolicies.Deserialise(state.State.PolicyState, JobId);
        _policy = SchedulerPolicies.OptionsFor(job.Config).CreatePolicy(saved);
        if (saved is null)
            _policy.State.Version = job.CompletedRounds; // a job whose earlier rounds ran before its policy was kept
        return _policy;
    }

    /// <summary>Seconds since the job was created, never behind the policy's clock.</summary>
    private static double Now(JobSnapshot job, ISchedulingPolicy policy)
        => Math.Max((DateTimeOffset.UtcNow - job.CreatedAt).TotalSeconds, policy.State.Now ?? 0);

    private static DateTimeOffset WallTime(JobSnapshot job, double seconds) => job.CreatedAt + TimeSpan.FromSeconds(seconds);

    /// <summary>The client's own compute seconds per step, when it reported them; else the policy measures hand-out to arrival.</summary>
    private static double? ComputeSecondsPerStep(UpdateStats stats, int steps)
    {
        if (stats.SecondsPerStep > 0 && double.IsFinite(stats.SecondsPerStep))
            return stats.SecondsPerStep;
        if (stats.ComputeSeconds > 0 && double.IsFinite(stats.ComputeSeconds))
            return stats.ComputeSeconds / steps;
        return null;
    }

    /// <summary>Wakes the grain at the policy's next deadline (the periodic tick is the fallback).</summary>
    private void ArmDeadlineTimer()
    {
        if (_deadlineTimer is null || _policy?.NextDeadline is not { } next || _job is not { Status: JobStatusKind.Running } job)
            return;
        var due = WallTime(job, next) - DateTimeOffset.UtcNow;
        _deadlineTimer.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private string WaitReason(ISchedulingPolicy policy, string clientId)
    {
        if (state.State.Issued.Values.Any(t => t.ClientId == clientId && t.Status == IssuedTaskStatus.Accepted))
            return $"the update of client '{clientId}' is in; the {policy.Name} scheduler assigns more work when it is aggregated";
        return policy.State switch
        {
            SynchronousState s => $"round {s.Round} has its {_job!.Config.ClientsPerRound} clients; waiting for the next round",
            _ => $"the {policy.Name} scheduler has no task for client '{clientId}' now",
        };
    }

    /// <summary>The training device's memory: GPU memory on a CUDA client, else system memory; null if unknown.</summary>
    private async Task<double?> MemoryGiB(string clientId)
    {
        var profile = (await GrainFactory.GetGrain<IClientGrain>(clientId).GetSnapshot()).Profile;
        var bytes = profile.AcceleratorMemoryBytes > 0 ? profile.AcceleratorMemoryBytes : profile.MemoryBytes;
        return bytes > 0 ? bytes / (double)(1L << 30) : null;
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

    private static TaskAssignment Assignment(JobSnapshot job, IssuedTask task) => new()
    {
        TaskId = task.TaskId,
        JobId = job.JobId,
        Round = task.Round,
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
        GlobalUpdates = GlobalUpdatesFor(job, task.Rank, task.StartVersion),
    };

    /// <summary>
    /// The chain of updates a client of this rank merges, oldest first, to build global version
    /// <paramref name="throughVersion"/> (all committed rounds when null): each round's view for its rank, or the global update.
    /// </summary>
    public static GlobalUpdateRef[] GlobalUpdatesFor(JobSnapshot job, int rank, long? throughVersion = null) => job.History
        .Where(r => throughVersion is not { } through || r.Round <= through)
        .Select(r =>
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} from version {Version}: task {TaskId} to client {ClientId} at rank {Rank}, {Steps} steps")]
    private static partial void LogAssigned(ILogger logger, string jobId, long version, string clientId, string taskId, int rank, int steps);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} round {Round}: update {Sha256} from client {ClientId} accepted ({Samples} samples)")]
    private static partial void LogAccepted(ILogger logger, string jobId, int round, string clientId, string sha256, long samples);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} round {Round}: task {TaskId} of client {ClientId} expired")]
    private static partial void LogExpired(ILogger logger, string jobId, int round, string clientId, string taskId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} round {Round}: client {ClientId} gave task {TaskId} back: {Reason}")]
    private static partial void LogAbandoned(ILogger logger, string jobId, int round, string clientId, string taskId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: the {Policy} scheduler marked client {ClientId} unavailable until it asks again")]
    private static partial void LogUnavailable(ILogger logger, string jobId, string clientId, string policy);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} round {Round}: aggregation failed; will retry")]
    private static partial void LogAggregationFailed(ILogger logger, Exception exception, string jobId, int round);
}
