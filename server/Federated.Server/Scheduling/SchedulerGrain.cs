using Federated.Contracts.Clients;
using Federated.Contracts.Errors;
using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;
using Federated.Core.Scheduling.Ledger;
using Federated.Server.Clients;
using Federated.Server.Coordination;
using Federated.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Federated.Server.Scheduling;

/// <summary>
/// Owns a job's <see cref="TaskLedger{TUpdate}"/> (one grain per job, not reentrant, so arrivals and deadlines
/// never race): loads and saves its state with the policy's, arms a timer at its next wake-up, and carries out
/// what it did (client records, the dashboard's <see cref="ClientIndex"/>, logs, waiting pollers). Each aggregation
/// the ledger queues is combined by the aggregator and committed as the job's next round; a failed one stays
/// queued for the next tick, never skipped. While its job is running or paused it holds a keep-alive reminder, so
/// it is activated again (on another silo after its own died) with no client call, and every activation re-arms
/// its timers from the persisted ledger (a deadline that passed meanwhile fires at once).
/// </summary>
[GrainType("scheduler")]
public sealed class SchedulerGrain(
    [PersistentState("scheduler", StorageNames.State)] IPersistentState<SchedulerState> state,
    IOptions<ServerOptions> options,
    IClientIndexUpdates index,
    TimeProvider time,
    ILogger<SchedulerGrain> logger) : Grain, ISchedulerGrain, IRemindable
{
    /// <summary>Counts changes pollers may wait on (a task freed or issued, a round committed); not a model version.</summary>
    private readonly ChangeSignal _changed = new();
    private JobSnapshot? _job;
    private TaskLedger<UpdateSubmission>? _ledger;
    private SchedulerEffects _effects = null!;
    private RoundCommitter _committer = null!;
    private SchedulerTimers _timers = null!;
    private KeepAliveReminder _keepAlive = null!;
    private bool _republish;

    private string JobId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _effects = new SchedulerEffects(JobId, index, GrainFactory, logger);
        _committer = new RoundCommitter(JobId, GrainFactory, time, logger, _changed.Notify);
        _timers = new SchedulerTimers(time);
        _timers.Register(this, TimeSpan.FromSeconds(options.Value.SchedulerTickSeconds), Tick);
        _keepAlive = new KeepAliveReminder(this, TimeSpan.FromSeconds(options.Value.KeepAliveSeconds), logger);
        if (state.RecordExists)
        {
            _timers.WakeAt(time.GetUtcNow()); // a tick as soon as the activation is done: it restores the ledger and re-arms
            // ...and says again which clients hold this job's tasks: what the previous activation last told the client
            // index may have died with its silo before it reached the others.
            _republish = true;
        }
        await base.OnActivateAsync(cancellationToken);
    }

    /// <summary>The keep-alive reminder: a tick, which also removes the reminder once the job has ended.</summary>
    public Task ReceiveReminder(string reminderName, TickStatus status) => Tick();

    public async Task<TaskOffer> RequestTask(string clientId)
    {
        if (await SyncWithJob() is not { } job)
            return None($"job '{JobId}' does not exist");
        if (job.Status != JobStatusKind.Running)
            return None(NotRunning(job));
        var ledger = Ledger(job);
        ledger.Ready(clientId, job.Config.Scheduler is { RankTiers.Length: > 0 } ? (await GrainFactory.GetGrain<IClientGrain>(clientId).GetSnapshot()).Profile.TrainingMemoryGiB : null);
        await Settle();
        if (_job!.Status != JobStatusKind.Running)
            return None(NotRunning(_job));
        var (task, reason) = ledger.OfferFor(clientId);
        return task is null ? None(reason) : new TaskOffer(LedgerRecords.Assignment(_job, task), _changed.Count, "");
    }

    public Task WaitForChange(long knownChangeCount, TimeSpan timeout) => _changed.WaitAsync(knownChangeCount, timeout);

    public async Task<TaskAssignment> GetTask(string clientId, string taskId, int round)
    {
        var job = await RequireJob();
        return LedgerRecords.Assignment(job, LedgerRecords.Refusing(() => Ledger(job).Find(clientId, taskId, round, answeredToo: true)));
    }

    public async Task<SubmissionReceipt> SubmitUpdate(UpdateSubmission submission)
    {
        var job = await RequireJob();
        var ledger = Ledger(job);
        if (LedgerRecords.Refusing(() => ledger.IsDuplicate(submission.ClientId, submission.TaskId, submission.Round, submission.Sha256)))
            return new SubmissionReceipt(submission.Sha256, Duplicate: true, "this update was accepted before");
        if (job.Status != JobStatusKind.Running)
            throw FederatedException.Precondition($"{NotRunning(job)}; no more updates are taken");
        var task = await Settled(() => ledger.Submit(submission.ClientId, submission.TaskId, submission.Round, submission.Sha256, submission.NumSamples, new UpdateTiming(submission.Stats.SecondsPerStep, submission.Stats.ComputeSeconds), submission));
        return new SubmissionReceipt(submission.Sha256, Duplicate: false, $"accepted ({ledger.Policy.Name}, task from version {task.StartVersion})");
    }

    public async Task AbandonTask(string clientId, string taskId, int round, string reason)
    {
        var job = await RequireJob();
        await Settled(() => { Ledger(job).Abandon(clientId, taskId, round, reason); return true; });
    }

    public async Task ClientRemoved(string clientId)
    {
        if (await SyncWithJob() is not { Status: JobStatusKind.Running } job)
            return;
        Ledger(job).ClientRemoved(clientId);
        await Settle();
    }

    public async Task PublishClients()
    {
        var ledger = await SyncWithJob() is { Status: not JobStatusKind.Failed } job ? Ledger(job) : null;
        _effects.PublishAll(ledger);
    }

    public Task Tick() => _timers.TickAfterOthers(TickOnce);

    /// <summary>The policy's deadline if due, then every task past its timeout, committing what each sets off.</summary>
    private async Task TickOnce()
    {
        if (_republish)
        {
            _republish = false;
            await PublishClients();
        }
        if (await SyncWithJob() is not { Status: JobStatusKind.Running } job)
            return;
        var ledger = Ledger(job);
        ledger.FireTimer();
        do
            await Settle();
        while (_job is { Status: JobStatusKind.Running } && ledger.ExpireOne());
    }

    /// <summary>Runs a ledger call and settles after it, also when it refuses (a refused update still withdrew its task).</summary>
    private async Task<T> Settled<T>(Func<T> call)
    {
        try
        {
            return LedgerRecords.Refusing(call);
        }
        finally
        {
            await Settle();
        }
    }

    /// <summary>After every ledger call: persist what changed, carry out what it did, commit queued aggregations, re-arm the timer.</summary>
    private async Task Settle()
    {
        var ledger = _ledger!;
        Task Save() => SchedulerPolicies.SaveIfDirtyAsync(ledger, state);
        await Save();
        if (await _effects.CarryOutAll(ledger.TakeEffects()))
            _changed.Notify();
        _job = await _committer.CommitQueuedAsync(_job!, ledger, Save);
        await Save();
        _timers.WakeAt(_job is { Status: JobStatusKind.Running } ? ledger.NextWake : null); // the periodic tick is the fallback
        await KeepAliveWhileUnended();
    }

    /// <summary>A paused job keeps its reminder: it has deadlines again once resumed, perhaps with no client calling.</summary>
    private Task KeepAliveWhileUnended() => _keepAlive.SetAsync(_job is { Status: JobStatusKind.Running or JobStatusKind.Paused });

    /// <summary>
    /// Loads the job (once per activation) and follows operator status changes; commits aggregations a crash left
    /// queued; holds the keep-alive reminder while the job has not ended.
    /// </summary>
    private async Task<JobSnapshot?> SyncWithJob()
    {
        var jobGrain = GrainFactory.GetGrain<IJobGrain>(JobId);
        if (_job is null)
            _job = await jobGrain.Find();
        else if (await jobGrain.GetStatus() is var status && status != _job.Status)
            _job = _job with { Status = status }; // paused, resumed or stopped by an operator
        else
            return _job;
        if (_job is { Status: JobStatusKind.Running } && _ledger is null && SchedulerPolicies.TryRestore(_job, state.State, time, out _ledger) is { } unusable)
            _job = await _effects.FailJobAsync(unusable);
        if (_job is not { Status: JobStatusKind.Running })
        {
            await KeepAliveWhileUnended();
            return _job;
        }
        await Settle();
        return _job;
    }

    private async Task<JobSnapshot> RequireJob() => await SyncWithJob() ?? throw FederatedException.NotFound($"job '{JobId}' does not exist");

    /// <summary>The job's ledger and policy, restored from the saved state on first use.</summary>
    private TaskLedger<UpdateSubmission> Ledger(JobSnapshot job)
    {
        if (job.Status == JobStatusKind.Failed)
            throw FederatedException.Precondition($"job '{JobId}' has failed: {job.Error}");
        return _ledger ??= SchedulerPolicies.Restore(job, state.State, time);
    }

    private string NotRunning(JobSnapshot job) => $"job '{JobId}' is {job.Status.ToString().ToLowerInvariant()}";

    private TaskOffer None(string reason) => new(null, _changed.Count, reason);
}
