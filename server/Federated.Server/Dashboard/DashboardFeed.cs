using System.Collections.Concurrent;
using Federated.Contracts.Clients;
using Federated.Contracts.Jobs;
using Federated.Server.Hosting;
using Federated.Server.Storage;
using Microsoft.Extensions.Options;

namespace Federated.Server.Dashboard;

/// <summary>
/// What the dashboard's pages show, kept current once for all of them: one watcher per job waits on
/// <see cref="IJobGrain.WaitForChange"/>, and one loop refreshes the client table (liveness has no change
/// signal) every few seconds. Pages' event streams await <see cref="Latest{T}"/> values from here.
/// </summary>
public sealed partial class DashboardFeed(
    IGrainFactory grains,
    AdapterStore store,
    IOptions<ServerOptions> server,
    IOptions<DashboardOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<DashboardFeed> logger) : BackgroundService
{
    private static readonly TimeSpan WatchSlice = TimeSpan.FromSeconds(15);

    private readonly ConcurrentDictionary<string, Latest<JobView>> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _sizes = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _jobChanged = new(0);
    private CancellationToken _stopping;

    public Latest<OverviewView> Overview { get; } = new();

    /// <summary>Every client, sorted by id, with the counts; pages slice it.</summary>
    public Latest<ClientTable> Clients { get; } = new();

    /// <summary>The job's view, watched from now on; NOT_FOUND (from the grain) if there is no such job.</summary>
    public async Task<Latest<JobView>> JobAsync(string jobId)
    {
        if (_jobs.TryGetValue(jobId, out var known))
            return known;
        var snapshot = await grains.GetGrain<IJobGrain>(jobId).GetSnapshot();
        var latest = new Latest<JobView>();
        if (_jobs.TryAdd(jobId, latest))
        {
            latest.Publish(DashboardViews.Job(snapshot, StoredBytes));
            if (!snapshot.IsSettled)
                _ = WatchAsync(jobId, latest, snapshot.Version);
        }
        return _jobs[jobId];
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        // The silo starts after this service; wait until the whole host is up.
        if (!await Started(stoppingToken))
            return;
        var period = TimeSpan.FromSeconds(options.Value.ClientRefreshSeconds);
        var nextClients = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var jobId in await grains.GetGrain<IJobDirectoryGrain>(0).ListJobs())
                    await JobAsync(jobId);
                if (DateTimeOffset.UtcNow >= nextClients)
                {
                    Clients.Publish(await ClientTableAsync());
                    nextClients = DateTimeOffset.UtcNow + period;
                }
                var jobs = _jobs.Values.Select(j => j.Current.Value).OfType<JobView>().OrderByDescending(j => j.CreatedAt).ToArray();
                Overview.Publish(new OverviewView(Clients.Current.Value?.Counts ?? new ClientCounts(0, 0, 0, 0), jobs, DateTimeOffset.UtcNow));
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogRefreshFailed(logger, e);
            }
            // Wake early when a job changes; otherwise when the client table is due.
            try
            {
                await _jobChanged.WaitAsync(period, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<bool> Started(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        using var onStopping = stoppingToken.Register(() => started.TrySetCanceled());
        try
        {
            await started.Task;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task WatchAsync(string jobId, Latest<JobView> latest, long version)
    {
        await Task.Yield();
        var job = grains.GetGrain<IJobGrain>(jobId);
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                var next = await job.WaitForChange(version, WatchSlice);
                if (next.Version == version)
                    continue;
                version = next.Version;
                latest.Publish(DashboardViews.Job(next, StoredBytes));
                _jobChanged.Release();
                if (next.IsSettled)
                    return; // completed, failed or stopped, and evaluated: nothing more will change
            }
            catch (Exception e) when (!_stopping.IsCancellationRequested)
            {
                LogWatchFailed(logger, jobId, e);
                await Task.Delay(TimeSpan.FromSeconds(1), _stopping).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task<ClientTable> ClientTableAsync()
    {
        var ids = await grains.GetGrain<IClientDirectoryGrain>(0).ListClients();
        var snapshots = new List<ClientSnapshot>(ids.Length);
        foreach (var batch in ids.Chunk(256))
            snapshots.AddRange(await Task.WhenAll(batch.Select(id => grains.GetGrain<IClientGrain>(id).GetSnapshot())));

        // Speed trend and rank from the clients' contributions to jobs, oldest first.
        var speeds = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var round in _jobs.Values.Select(j => j.Current.Value).OfType<JobView>().SelectMany(j => j.Rounds).OrderBy(r => r.CompletedAt))
        {
            foreach (var p in round.Participants)
            {
                if (!speeds.TryGetValue(p.ClientId, out var list))
                    speeds[p.ClientId] = list = [];
                list.Add(p.SecondsPerStep);
                ranks[p.ClientId] = p.Rank;
            }
        }

        var stale = DateTimeOffset.UtcNow - TimeSpan.FromSeconds(3 * server.Value.HeartbeatIntervalSeconds + server.Value.MaxPollWaitSeconds);
        var views = snapshots
            .OrderBy(c => c.ClientId, StringComparer.Ordinal)
            .Select(c => DashboardViews.Client(
                c, c.LastSeen >= stale,
                speeds.TryGetValue(c.ClientId, out var s) ? [.. s.TakeLast(20)] : [],
                ranks.TryGetValue(c.ClientId, out var r) ? r : null))
            .ToArray();
        var unavailable = views.Count(v => !v.Available);
        var active = views.Count(v => v.Available && v.Activity != "idle");
        return new ClientTable(new ClientCounts(views.Length, active, views.Length - active - unavailable, unavailable), views);
    }

    private long StoredBytes(string sha256)
        => _sizes.GetOrAdd(sha256, s => AdapterStore.IsValidHash(s) && store.Contains(s) ? new FileInfo(store.PathOf(s)).Length : 0);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard refresh failed")]
    private static partial void LogRefreshFailed(ILogger logger, Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard lost track of job {JobId} for a moment")]
    private static partial void LogWatchFailed(ILogger logger, string jobId, Exception e);
}

/// <summary>All clients, sorted by id.</summary>
public sealed record ClientTable(ClientCounts Counts, ClientView[] Clients);
