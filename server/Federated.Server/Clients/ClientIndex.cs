using System.Collections.Concurrent;
using Federated.Contracts.Clients;
using Federated.Contracts.Errors;
using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;
using Federated.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Federated.Server.Clients;

/// <summary>
/// The server's in-memory projection of every enrolled client, which the dashboard's pages, filters and counts
/// read instead of calling the grains: each <see cref="ClientGrain"/> pushes its snapshot here whenever it
/// changes (enrolment, heartbeat, task, operator action) and each job's scheduler pushes which clients hold one
/// of its tasks or were dropped by it. One per silo. Local mode: the pushes come straight here
/// (<see cref="IClientIndexUpdates"/>) and after a restart <see cref="RebuildAsync"/> fills it from the client
/// directory in the background. Postgres mode: the pushes go to the feed partitions and
/// <see cref="ClientIndexSync"/> applies them here (<see cref="ApplyFeed"/>) on every silo alike.
/// </summary>
public sealed class ClientIndex(IOptions<ServerOptions> options) : IClientIndexUpdates
{
    private const int RebuildBatch = 256;

    private readonly ConcurrentDictionary<string, ClientSnapshot> _clients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, ClientJobState>> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ClientAssignment> _assignments = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private string[] _sortedIds = [];
    private int _sortedCount = -1;
    private long _version;
    private volatile bool _rebuilding;

    /// <summary>Raised after every change (from grain threads): wake a reader, do not work in the handler.</summary>
    public event Action? Changed;

    /// <summary>Counts changes; a reader compares it to know whether to read again.</summary>
    public long Version => Interlocked.Read(ref _version);

    public int Count => _clients.Count;

    /// <summary>Jobs whose scheduler has said something of its clients.</summary>
    public ICollection<string> JobIds => _jobs.Keys;

    /// <summary>True while <see cref="RebuildAsync"/> (or <see cref="ClientIndexSync"/>'s first pull) is still reading the clients after a restart.</summary>
    public bool Rebuilding => _rebuilding;

    /// <summary>Set by <see cref="ClientIndexSync"/>, which rebuilds the index in Postgres mode.</summary>
    public void MarkRebuilding(bool rebuilding)
    {
        _rebuilding = rebuilding;
        Touch();
    }

    /// <summary>
    /// Changes pulled from feed partition <paramref name="partition"/>, with one notification for all of them.
    /// <paramref name="afresh"/>: the partition was reactivated and hands out everything it knows, so what the jobs
    /// said of its clients is forgotten first (a cleared state the partition no longer remembers must not stay).
    /// </summary>
    public void ApplyFeed(int partition, IReadOnlyList<ClientIndexChange> changes, bool afresh)
    {
        if (afresh)
        {
            foreach (var job in _jobs.Values)
            {
                foreach (var clientId in job.Keys.Where(id => ClientIndexPartitions.Of(id) == partition).ToList())
                    job.TryRemove(clientId, out _);
            }
        }
        foreach (var change in changes)
        {
            switch (change.Kind)
            {
                case ClientIndexChangeKind.Client:
                    _clients[change.ClientId] = change.Client!;
                    break;
                case ClientIndexChangeKind.JobState:
                    var job = _jobs.GetOrAdd(change.JobId!, _ => new ConcurrentDictionary<string, ClientJobState>(StringComparer.Ordinal));
                    if (change.JobState is { } state)
                        job[change.ClientId] = state;
                    else
                        job.TryRemove(change.ClientId, out _);
                    break;
                case ClientIndexChangeKind.Assignment:
                    _assignments.AddOrUpdate(change.ClientId, change.Assignment!, (_, known) => known.IssuedAt > change.Assignment!.IssuedAt ? known : change.Assignment!);
                    break;
                default:
                    throw new ArgumentException($"a feed partition handed out a {change.Kind} change", nameof(changes));
            }
        }
        if (afresh || changes.Count > 0)
            Touch();
    }

    /// <summary>A client's current snapshot (its grain calls this on every change).</summary>
    public void Upsert(ClientSnapshot client)
    {
        _clients[client.ClientId] = client;
        Touch();
    }

    /// <summary>A snapshot read while rebuilding: kept only if the grain has not pushed a newer one meanwhile.</summary>
    public void Seed(ClientSnapshot client)
    {
        if (_clients.TryAdd(client.ClientId, client))
            Touch();
    }

    public bool TryGet(string clientId, out ClientSnapshot client) => _clients.TryGetValue(clientId, out client!);

    /// <summary>What the job's scheduler says of the client now; null: nothing (no open task, not dropped).</summary>
    public void SetJobState(string jobId, string clientId, ClientJobState? state)
    {
        var job = _jobs.GetOrAdd(jobId, _ => new ConcurrentDictionary<string, ClientJobState>(StringComparer.Ordinal));
        if (state is { } s)
            job[clientId] = s;
        else if (!job.TryRemove(clientId, out _))
            return;
        Touch();
    }

    /// <summary>What the job's scheduler last said of the client; null: nothing (no open task, not dropped).</summary>
    public ClientJobState? JobStateOf(string jobId, string clientId)
        => _jobs.TryGetValue(jobId, out var job) && job.TryGetValue(clientId, out var state) ? state : null;

    /// <summary>The latest task a scheduler handed the client (kept after it finishes: the client's current or last assignment).</summary>
    public void RecordAssignment(string clientId, ClientAssignment assignment)
    {
        _assignments.AddOrUpdate(clientId, assignment, (_, known) => known.IssuedAt > assignment.IssuedAt ? known : assignment);
        Touch();
    }

    public ClientAssignment? AssignmentOf(string clientId) => _assignments.TryGetValue(clientId, out var assignment) ? assignment : null;

    /// <summary>
    /// Returns once <paramref name="done"/> holds: looked at again after every change, and every
    /// <paramref name="recheck"/> for what can change outside the index (a job's status, say).
    /// </summary>
    public async Task UntilAsync(Func<Task<bool>> done, TimeSpan recheck, CancellationToken cancellationToken)
    {
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged() => changed.TrySetResult();
        Changed += OnChanged;
        try
        {
            // A change between the look and the wait completes the source already in hand, so none is missed.
            while (!await done())
            {
                await Task.WhenAny(changed.Task, Task.Delay(recheck, cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();
                changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        finally
        {
            Changed -= OnChanged;
        }
    }

    /// <summary>Everything the job's scheduler says of its clients, replacing what was known (after a restart).</summary>
    public void ReplaceJob(string jobId, IEnumerable<KeyValuePair<string, ClientJobState>> states)
    {
        _jobs[jobId] = new ConcurrentDictionary<string, ClientJobState>(states, StringComparer.Ordinal);
        Touch();
    }

    /// <summary>Every client, sorted by id (the id order is rebuilt only when a client was added).</summary>
    public ClientSnapshot[] Sorted()
    {
        string[] ids;
        lock (_gate)
        {
            if (_sortedCount != _clients.Count)
            {
                var keys = _clients.Keys.ToArray();
                Array.Sort(keys, StringComparer.Ordinal);
                _sortedIds = keys;
                _sortedCount = keys.Length;
            }
            ids = _sortedIds;
        }
        var result = new ClientSnapshot[ids.Length];
        for (int i = 0; i < ids.Length; i++)
            result[i] = _clients[ids[i]];
        return result;
    }

    /// <summary>
    /// Seen recently: a heartbeat, poll or enrolment within three heartbeat intervals plus the longest poll wait.
    /// Heartbeats are not persisted, so after a restart a client is not live until it is heard from again.
    /// </summary>
    public bool IsLive(ClientSnapshot client, DateTimeOffset now)
        => client.LastSeen >= now - TimeSpan.FromSeconds(3 * options.Value.HeartbeatIntervalSeconds + options.Value.MaxPollWaitSeconds);

    /// <summary>
    /// Server-wide counts, each client in one of three, as per job (<see cref="CountsPerJob"/>): active when live
    /// and reporting work (downloading, training, uploading) or holding an open task of a job that has not
    /// settled; otherwise unavailable when not live or paused, draining or removed by an operator; idle otherwise.
    /// </summary>
    public ClientCounts Counts(IReadOnlyCollection<ClientSnapshot> clients, IEnumerable<JobSnapshotStatus> jobs, DateTimeOffset now)
    {
        var running = jobs.Where(j => !j.Settled).Select(j => _jobs.TryGetValue(j.JobId, out var s) ? s : null).OfType<ConcurrentDictionary<string, ClientJobState>>().ToArray();
        int active = 0, unavailable = 0;
        foreach (var client in clients)
        {
            var live = IsLive(client, now);
            if (live && (client.Activity != ClientActivityKind.Idle || running.Any(j => j.TryGetValue(client.ClientId, out var s) && s == ClientJobState.Working)))
                active++;
            else if (!live || client.Admission != ClientAdmission.Active)
                unavailable++;
        }
        return new ClientCounts(clients.Count, active, clients.Count - active - unavailable, unavailable);
    }

    /// <summary>
    /// Counts for each job, every client in exactly one of three. Active: live and holding an open task of the
    /// job (handed out, not yet answered, withdrawn or expired), even when paused or draining since, as that task
    /// may still finish. Unavailable: otherwise, when not live, paused, draining or removed by an operator, or
    /// dropped by the job's scheduler (a missed deadline; until the client asks again). Idle: the rest, enrolled
    /// and eligible but not working on the job. A settled job (completed, failed, stopped) has no active client.
    /// </summary>
    public Dictionary<string, ClientCounts> CountsPerJob(IReadOnlyCollection<ClientSnapshot> clients, IEnumerable<JobSnapshotStatus> jobs, DateTimeOffset now)
    {
        var tallies = jobs.Select(j => (j.JobId, States: _jobs.TryGetValue(j.JobId, out var s) ? s : null, j.Settled, Active: 0, Unavailable: 0)).ToArray();
        foreach (var client in clients)
        {
            var live = IsLive(client, now);
            var admitted = client.Admission == ClientAdmission.Active;
            for (int i = 0; i < tallies.Length; i++)
            {
                ref var tally = ref tallies[i];
                ClientJobState? state = tally.States is { } states && states.TryGetValue(client.ClientId, out var s) ? s : null;
                if (tally.Settled)
                    state = null;
                if (live && state == ClientJobState.Working)
                    tally.Active++;
                else if (!live || !admitted || state == ClientJobState.Unavailable)
                    tally.Unavailable++;
            }
        }
        return tallies.ToDictionary(t => t.JobId, t => new ClientCounts(clients.Count, t.Active, clients.Count - t.Active - t.Unavailable, t.Unavailable), StringComparer.Ordinal);
    }

    /// <summary>
    /// Reads every client the directory lists and is not here yet (a restart), in batches of grain calls, then
    /// asks each active job's scheduler what its clients do. Runs in the background; pages show what is read so far.
    /// </summary>
    public async Task RebuildAsync(IGrainFactory grains, CancellationToken cancellationToken)
    {
        _rebuilding = true;
        Touch();
        try
        {
            var ids = await grains.GetGrain<IClientDirectoryGrain>(0).ListClients();
            foreach (var batch in ids.Where(id => !_clients.ContainsKey(id)).Chunk(RebuildBatch))
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var client in await Task.WhenAll(batch.Select(id => SnapshotOrNull(grains, id))))
                {
                    if (client is not null)
                        Seed(client);
                }
            }
            foreach (var jobId in await grains.GetGrain<IJobDirectoryGrain>(0).ListActiveJobs())
                await grains.GetGrain<ISchedulerGrain>(jobId).PublishClients();
        }
        finally
        {
            _rebuilding = false;
            Touch();
        }
    }

    private static async Task<ClientSnapshot?> SnapshotOrNull(IGrainFactory grains, string clientId)
    {
        try
        {
            return await grains.GetGrain<IClientGrain>(clientId).GetSnapshot();
        }
        catch (FederatedException e) when (e.Error == FederatedError.NotFound)
        {
            return null;
        }
    }

    private void Touch()
    {
        Interlocked.Increment(ref _version);
        Changed?.Invoke();
    }
}

/// <summary>What a job's scheduler says of a client.</summary>
public enum ClientJobState
{
    /// <summary>Holds an open task of the job.</summary>
    Working,

    /// <summary>Dropped by the job's scheduler (missed a deadline) until it asks for work again.</summary>
    Unavailable,
}

/// <summary>A task handed to a client: its job, LoRA rank and number of local steps.</summary>
[GenerateSerializer]
[Immutable]
public sealed record ClientAssignment([property: Id(0)] string JobId, [property: Id(1)] int Rank, [property: Id(2)] int Steps, [property: Id(3)] DateTimeOffset IssuedAt);

/// <summary>A job as far as client counts need it.</summary>
public readonly record struct JobSnapshotStatus(string JobId, bool Settled);

/// <summary>Counts of clients by what they are doing (see <see cref="ClientIndex.Counts"/> and <see cref="ClientIndex.CountsPerJob"/>).</summary>
public sealed record ClientCounts(int Total, int Active, int Idle, int Unavailable);
