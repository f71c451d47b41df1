using Federated.Server.Hosting;

namespace Federated.Server.Clients;

/// <summary>
/// Postgres mode: keeps this silo's <see cref="ClientIndex"/> the same as every other silo's by pulling each feed
/// partition's changes since the version it last saw, every <see cref="Period"/> and whenever this silo's
/// <see cref="ClientIndexPublisher"/> has sent some. A partition with a new epoch (reactivated after its silo
/// died) is read afresh and replaces what this silo knew of its clients' jobs. The index counts as rebuilding
/// until every partition has been read once.
/// </summary>
public sealed partial class ClientIndexSync(
    IGrainFactory grains,
    ClientIndex index,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<ClientIndexSync> logger) : BackgroundService
{
    /// <summary>How stale another silo's changes may be here, at most, while the partitions answer.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    /// <summary>At most five pulls a second, however often this silo's publisher sends.</summary>
    private static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(200);

    private const int PageSize = 2_000;

    private readonly (Guid Epoch, long Version)[] _seen = new (Guid, long)[ClientIndexPartitions.Count];
    private readonly Lock _gate = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Pull soon (this silo's publisher has just sent changes).</summary>
    public void Wake()
    {
        lock (_gate)
            _wake.TrySetResult();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        index.MarkRebuilding(true);
        if (!await HostStarted.WaitAsync(lifetime, stoppingToken))
            return;
        var complete = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            var began = time.GetUtcNow();
            Task woken;
            lock (_gate)
            {
                _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                woken = _wake.Task;
            }
            try
            {
                var pulled = await Task.WhenAll(Enumerable.Range(0, ClientIndexPartitions.Count).Select(PullAsync));
                if (!complete && pulled.All(p => p))
                {
                    complete = true;
                    index.MarkRebuilding(false);
                }
                await Task.WhenAny(woken, Task.Delay(Period, time, stoppingToken));
                var spare = began + MinInterval - time.GetUtcNow();
                if (spare > TimeSpan.Zero)
                    await Task.Delay(spare, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Every change of the partition since the last pull, page by page; false if it did not answer.</summary>
    private async Task<bool> PullAsync(int partition)
    {
        try
        {
            var feed = grains.GetGrain<IClientIndexFeedGrain>(partition);
            ClientIndexFeedPage page;
            do
            {
                var (epoch, version) = _seen[partition];
                page = await feed.ChangesSince(epoch, version, PageSize);
                index.ApplyFeed(partition, page.Changes, afresh: page.Epoch != epoch);
                _seen[partition] = (page.Epoch, page.Version);
            }
            while (page.More);
            return true;
        }
        catch (Exception e)
        {
            LogPullFailed(logger, e, partition);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not pull client index feed partition {Partition}; trying again shortly")]
    private static partial void LogPullFailed(ILogger logger, Exception exception, int partition);
}
