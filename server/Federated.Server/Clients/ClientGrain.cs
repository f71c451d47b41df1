using Federated.Contracts.Clients;
using Federated.Contracts.Errors;
using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;
using Federated.Core.Scheduling;
using Federated.Protos;
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

    public Task<ClientSnapshot> Enrol(ClientProfile profile) => Enrol(profile, credential: null);

    public Task<ClientSnapshot> EnrolNew(ClientProfile profile, byte[] credentialHash, string? joinTokenId)
    {
        if (credentialHash.Length != 32)
            throw FederatedException.Invalid("a credential's hash is a SHA-256 (32 bytes)");
        if (state.State.CredentialHash is not null)
        {
            var repeat = joinTokenId is not null && state.State.JoinTokenId == joinTokenId && !state.State.CredentialUsed;
            if (!repeat)
                throw FederatedException.Denied($"client '{ClientId}' is already enrolled with its own credential; only that credential may enrol it again (a machine that lost it enrols under a new client id, and an operator removes '{ClientId}')");
        }
        return Enrol(profile, (credentialHash, joinTokenId));
    }

    public async Task<string?> Authenticate(byte[] credentialHash)
    {
        if (state.State.Profile is null)
            return $"client '{ClientId}' is not enrolled on this server: enrol it with a join token";
        if (state.State.Admission == ClientAdmission.Removed)
            return $"client '{ClientId}' {ClientRefusal.RemovedText}";
        if (state.State.CredentialHash is not { } expected)
            return $"client '{ClientId}' was enrolled before per-client credentials and holds none: enrol it again with a join token";
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(expected, credentialHash))
            return $"the credential presented for client '{ClientId}' is not its current one";
        if (!state.State.CredentialUsed)
        {
            state.State.CredentialUsed = true; // from now on a repeated first enrolment cannot replace it
            await state.WriteStateAsync();
        }
        return null;
    }

    private async Task<ClientSnapshot> Enrol(ClientProfile profile, (byte[] Hash, string? JoinTokenId)? credential)
    {
        if (state.State.Admission == ClientAdmission.Removed)
            throw FederatedException.Precondition($"client '{ClientId}' was removed by an operator and may not enrol again");
        ClientInputLimits.CheckProfile(profile); // before anything changes: a refused enrolment enrols nothing
        var now = time.GetUtcNow();
        var previous = (state.State.Profile, state.State.EnrolledAt, state.State.LastSeen, state.State.CredentialHash, state.State.JoinTokenId, state.State.CredentialUsed);
        var first = previous.Profile is null;
        if (first)
            state.State.EnrolledAt = now;
        state.State.Profile = profile;
        state.State.LastSeen = now;
        if (credential is { } issued)
            (state.State.CredentialHash, state.State.JoinTokenId, state.State.CredentialUsed) = (issued.Hash, issued.JoinTokenId, false);
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Not kept, so not enrolled: the id must not count as enrolled on a profile the store refused.
            (state.State.Profile, state.State.EnrolledAt, state.State.LastSeen, state.State.CredentialHash, state.State.JoinTokenId, state.State.CredentialUsed) = previous;
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
        if (admission == ClientAdmission.Removed)
            state.State.CredentialHash = null; // revoked at once: the next call with it is refused, on any silo
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
            state.State.CredentialHash = null;
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
