using System.Collections.Concurrent;
using Federated.Contracts.Clients;
using Federated.Contracts.Jobs;
using Federated.Server.Clients;
using Federated.Server.Coordination;
using Federated.Server.Hosting;
using Federated.Server.Storage;
using Microsoft.Extensions.Options;

namespace Federated.Server.Dashboard;

/// <summary>
/// What the dashboard's pages show, kept current once for all of them: one watcher per job waits on
/// <see cref="IJobGrain.WaitForChange"/>, and one loop reads the <see cref="ClientIndex"/> (which the client grains
/// and schedulers push to; no grain is called per client) when a job or client changes, and at least every
/// <see cref="DashboardOptions.ClientRefreshSeconds"/> as liveness ages. Pages' event streams await
/// <see cref="Latest{T}"/> values from here.
/// </summary>
public sealed partial class DashboardFeed(
    IGrainFactory grains,
    ClientIndex index,
    AdapterStore store,
    IOptions<DashboardOptions> options,
    IOptions<ServerOptions> server,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<DashboardFeed> logger) : BackgroundService
{
    /// <summary>Short: a stopping silo waits for a long poll in flight, so a long slice held up every shutdown.</summary>
    private static readonly TimeSpan WatchSlice = TimeSpan.FromSeconds(2);

    /// <summary>At most five refreshes a second, however fast clients change (thousands enrolling at once).</summary>
    private static readonly TimeSpan MinRefresh = TimeSpan.FromMilliseconds(200);

    private readonly ConcurrentDictionary<string, Latest<JobView>> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _sizes = new(StringComparer.Ordinal);
    private readonly WakeSignal _wake = new();
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
        var view = await ViewAsync(snapshot);
        var latest = new Latest<JobView>();
        if (_jobs.TryAdd(jobId, latest))
        {
            latest.Publish(view);
            if (!snapshot.IsSettled)
                _ = WatchAsync(jobId, latest, snapshot.ChangeCount);
        }
        return _jobs[jobId];
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        // The silo starts after this service; wait until the whole host is up.
        if (!await HostStarted.WaitAsync(lifetime, stoppingToken))
            return;
        index.Changed += Wake;
        try
        {
            // In Postgres mode ClientIndexSync rebuilds it from the feed partitions, which read the clients once for all silos.
            if (server.Value.Cluster.Mode == Cluster.ClusterMode.Local)
                _ = RebuildIndexAsync(stoppingToken);
            await RefreshLoopAsync(stoppingToken);
        }
        finally
        {
            index.Changed -= Wake;
        }
    }

    private async Task RefreshLoopAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(options.Value.ClientRefreshSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            var began = time.GetUtcNow();
            try
            {
                foreach (var jobId in await grains.GetGrain<IJobDirectoryGrain>(0).ListJobs())
                    await JobAsync(jobId);
                var jobs = _jobs.Values.Select(j => j.Current.Value).OfType<JobView>().OrderByDescending(j => j.CreatedAt).ToArray();
                var table = DashboardViews.Table(index, jobs, began);
                Clients.Publish(table);
                Overview.Publish(DashboardViews.Overview(table, jobs));
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogRefreshFailed(logger, e);
            }
            try
            {
                // Wake early when a job or a client changes; otherwise when liveness is due again.
                await _wake.WaitAsync(period, stoppingToken);
                var spare = began + MinRefresh - time.GetUtcNow();
                if (spare > TimeSpan.Zero)
                    await Task.Delay(spare, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task RebuildIndexAsync(CancellationToken stoppingToken)
    {
        try
        {
            await index.RebuildAsync(grains, stoppingToken);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            LogRebuildFailed(logger, e);
        }
    }

    private void Wake() => _wake.Wake();

    private async Task WatchAsync(string jobId, Latest<JobView> latest, long version)
    {
        await Task.Yield();
        var job = grains.GetGrain<IJobGrain>(jobId);
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                var next = await job.WaitForChange(version, WatchSlice);
                if (next.ChangeCount == version)
                    continue;
                version = next.ChangeCount;
                latest.Publish(await ViewAsync(next));
                Wake();
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

    /// <summary>The job's view, with each upload's stored size (looked up once per hash: the backend may be a database).</summary>
    private async Task<JobView> ViewAsync(JobSnapshot job)
    {
        foreach (var sha256 in job.History.SelectMany(r => r.Participants).Select(p => p.UpdateSha256).Where(s => !_sizes.ContainsKey(s)).Distinct().ToList())
            _sizes[sha256] = AdapterStore.IsValidHash(sha256) ? await store.SizeAsync(sha256) ?? 0 : 0;
        return DashboardViews.Job(job, s => _sizes.GetValueOrDefault(s));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard refresh failed")]
    private static partial void LogRefreshFailed(ILogger logger, Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard could not rebuild the client index from the persisted clients; it fills as clients are heard from")]
    private static partial void LogRebuildFailed(ILogger logger, Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard lost track of job {JobId} for a moment")]
    private static partial void LogWatchFailed(ILogger logger, string jobId, Exception e);
}
