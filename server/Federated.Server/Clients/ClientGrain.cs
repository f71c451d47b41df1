using Federated.Contracts.Clients;
using Federated.Contracts.Errors;
using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;
using Federated.Core.Scheduling;
using Federated.Server.Coordination;
using Federated.Server.Hosting;
using Federated.Server.Transport;

namespace Federated.Server.Clients;

/// <summary>
/// One enrolled client: its device profile, its liveness and its measured speed. Every change is pushed to the
/// <see cref="ClientIndex"/>, which the dashboard reads instead of this grain.
/// </summary>
[GrainType("client")]
public sealed partial class ClientGrain(
    [PersistentState("client", StorageNames.State)] IPersistentState<ClientState> state,
    IClientIndexUpdates index,
    TimeProvider time,
    ILogger<ClientGrain> logger) : Grain, IClientGrain
{
    private readonly ChangeSignal _admissionChanged = new();
    private ClientActivityKind _activity;
    private string? _taskId;
    private double _progress;

    private string ClientId => this.GetPrimaryKeyString();

    public async Task<ClientSnapshot> Enrol(ClientProfile profile)
    {
        if (state.State.Admission == ClientAdmission.Removed)
            throw FederatedException.Precondition($"client '{ClientId}' was removed by an operator and may not enrol again");
        ClientInputLimits.CheckProfile(profile); // before anything changes: a refused enrolment enrols nothing
        var now = time.GetUtcNow();
        var previous = (state.State.Profile, state.State.EnrolledAt, state.State.LastSeen);
        var first = previous.Profile is null;
        if (first)
            state.State.EnrolledAt = now;
        state.State.Profile = profile;
        state.State.LastSeen = now;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Not kept, so not enrolled: the id must not count as enrolled on a profile the store refused.
            (state.State.Profile, state.State.EnrolledAt, state.State.LastSeen) = previous;
            throw;
        }
        _activity = ClientActivityKind.Idle;
        if (first)
            await GrainFactory.GetGrain<IClientDirectoryGrain>(0).Register(ClientId);
        LogEnrolled(logger, ClientId, profile.Device, profile.CpuCores, profile.MeasuredGflops, first);
        return Published();
    }

    public Task<bool> Heartbeat(ClientActivityKind activity, string? taskId, double progress)
    {
        if (state.State.Profile is null)
            return Task.FromResult(false);
        ClientInputLimits.CheckHeartbeat(progress, taskId);
        state.State.LastSeen = time.GetUtcNow();
        _activity = activity;
        _taskId = taskId;
        _progress = progress;
        Published();
        return Task.FromResult(true);
    }

    public Task<bool> IsEnrolled() => Task.FromResult(state.State.Profile is not null);

    public Task<ClientSnapshot> GetSnapshot()
    {
        if (state.State.Profile is null)
            throw FederatedException.NotFound($"client '{ClientId}' is not enrolled");
        return Task.FromResult(Snapshot());
    }

    public async Task<ClientSnapshot> SetAdmission(ClientAdmission admission)
    {
        await GetSnapshot();
        if (state.State.Admission == ClientAdmission.Removed)
            throw FederatedException.Precondition($"client '{ClientId}' has been removed");
        state.State.Admission = admission;
        await state.WriteStateAsync();
        _admissionChanged.Notify();
        LogAdmission(logger, ClientId, admission);
        if (admission == ClientAdmission.Removed)
            await TellSchedulersRemoved();
        return Published();
    }

    public async Task<bool> MayTakeTasks()
    {
        if (state.State.Admission == ClientAdmission.Draining)
        {
            // It asks for work, so the task it held has ended.
            state.State.Admission = ClientAdmission.Removed;
            await state.WriteStateAsync();
            LogAdmission(logger, ClientId, ClientAdmission.Removed);
            Published();
            await TellSchedulersRemoved();
        }
        return state.State.Admission == ClientAdmission.Active;
    }

    public async Task<bool> WaitUntilActive(TimeSpan timeout)
    {
        if (state.State.Admission != ClientAdmission.Active)
            await _admissionChanged.WaitAsync(timeout, time);
        return state.State.Admission == ClientAdmission.Active;
    }

    /// <summary>Every running job stops counting the client in its federation weighting (one-way calls: no wait on the schedulers).</summary>
    private async Task TellSchedulersRemoved()
    {
        foreach (var jobId in await GrainFactory.GetGrain<IJobDirectoryGrain>(0).ListActiveJobs())
            await GrainFactory.GetGrain<ISchedulerGrain>(jobId).ClientRemoved(ClientId);
    }

    public async Task RecordTaskCompleted(string taskId, double secondsPerStep, int rank)
    {
        state.State.TasksCompleted++;
        state.State.Rank = rank;
        if (double.IsFinite(secondsPerStep) && secondsPerStep > 0)
        {
            state.State.SecondsPerStep = SpeedEstimate.Next(state.State.SecondsPerStep, secondsPerStep, SpeedEstimate.DefaultMomentum);
            state.State.SpeedTrend.Add(secondsPerStep);
            if (state.State.SpeedTrend.Count > ClientState.TrendLength)
                state.State.SpeedTrend.RemoveRange(0, state.State.SpeedTrend.Count - ClientState.TrendLength);
        }
        state.State.LastSeen = time.GetUtcNow();
        await state.WriteStateAsync();
        Published();
    }

    public async Task RecordTaskExpired(string taskId)
    {
        state.State.TasksExpired++;
        await state.WriteStateAsync();
        Published();
        LogExpired(logger, ClientId, taskId);
    }

    private ClientSnapshot Published()
    {
        var snapshot = Snapshot();
        index.Upsert(snapshot);
        return snapshot;
    }

    private ClientSnapshot Snapshot() => new()
    {
        ClientId = ClientId,
        Profile = state.State.Profile!,
        EnrolledAt = state.State.EnrolledAt,
        LastSeen = state.State.LastSeen,
        Activity = _activity,
        CurrentTaskId = _taskId,
        Progress = _progress,
        TasksCompleted = state.State.TasksCompleted,
        TasksExpired = state.State.TasksExpired,
        SecondsPerStep = state.State.SecondsPerStep,
        Admission = state.State.Admission,
        Rank = state.State.Rank,
        SpeedTrend = [.. state.State.SpeedTrend],
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Client {ClientId} is now {Admission} (operator)")]
    private static partial void LogAdmission(ILogger logger, string clientId, ClientAdmission admission);

    [LoggerMessage(Level = LogLevel.Information, Message = "Client {ClientId} enrolled ({Device}, {Cores} cores, {Gflops:F1} GFLOP/s, first time: {First})")]
    private static partial void LogEnrolled(ILogger logger, string clientId, string device, int cores, double gflops, bool first);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client {ClientId}: task {TaskId} ended without an update (expired, withdrawn or given back)")]
    private static partial void LogExpired(ILogger logger, string clientId, string taskId);
}
