using Federated.Contracts.Clients;
using Federated.Server.Coordination;
using Federated.Server.Hosting;

namespace Federated.Server.Clients;

/// <summary>
/// Postgres mode's <see cref="IClientIndexUpdates"/>: grains hand it their changes without waiting, and it sends
/// them, gathered for <see cref="Gather"/> (a client's snapshots in between reduced to its latest), to the feed
/// partitions, one call per partition; then it wakes this silo's <see cref="ClientIndexSync"/>. Changes a
/// partition could not take (its silo was dying) are sent again, ahead of later ones.
/// </summary>
public sealed partial class ClientIndexPublisher(
    IGrainFactory grains,
    ClientIndexSync sync,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<ClientIndexPublisher> logger) : BackgroundService, IClientIndexUpdates
{
    private static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    /// <summary>Changes per call, so a burst (10,000 enrolments) stays in messages of a few hundred kilobytes.</summary>
    private const int MaxPerCall = 2_000;

    private readonly Lock _gate = new();
    private readonly List<ClientIndexChange>[] _pending = [.. Enumerable.Range(0, ClientIndexPartitions.Count).Select(_ => new List<ClientIndexChange>())];
    private readonly Dictionary<string, int>[] _snapshotAt = [.. Enumerable.Range(0, ClientIndexPartitions.Count).Select(_ => new Dictionary<string, int>(StringComparer.Ordinal))];
    private readonly WakeSignal _wake = new();

    public void Upsert(ClientSnapshot client)
    {
        var partition = ClientIndexPartitions.Of(client.ClientId);
        var change = new ClientIndexChange(ClientIndexChangeKind.Client, client.ClientId, Client: client);
        lock (_gate)
        {
            if (_snapshotAt[partition].TryGetValue(client.ClientId, out var at))
                _pending[partition][at] = change;
            else
            {
                _snapshotAt[partition][client.ClientId] = _pending[partition].Count;
                _pending[partition].Add(change);
            }
        }
        Wake();
    }

    public void SetJobState(string jobId, string clientId, ClientJobState? state)
        => Add(ClientIndexPartitions.Of(clientId), new ClientIndexChange(ClientIndexChangeKind.JobState, clientId, jobId, JobState: state));

    public void RecordAssignment(string clientId, ClientAssignment assignment)
        => Add(ClientIndexPartitions.Of(clientId), new ClientIndexChange(ClientIndexChangeKind.Assignment, clientId, Assignment: assignment));

    /// <summary>To every partition, those without any of the job's clients too: they clear what they knew of it.</summary>
    public void ReplaceJob(string jobId, IEnumerable<KeyValuePair<string, ClientJobState>> states)
    {
        var shares = Enumerable.Range(0, ClientIndexPartitions.Count).Select(_ => new Dictionary<string, ClientJobState>(StringComparer.Ordinal)).ToArray();
        foreach (var (clientId, state) in states)
            shares[ClientIndexPartitions.Of(clientId)][clientId] = state;
        for (var p = 0; p < shares.Length; p++)
            Add(p, new ClientIndexChange(ClientIndexChangeKind.JobReplaced, "", jobId, States: shares[p]));
    }

    private void Add(int partition, ClientIndexChange change)
    {
        lock (_gate)
            _pending[partition].Add(change);
        Wake();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Grain calls need the silo, which starts after this service.
        if (!await HostStarted.WaitAsync(lifetime, stoppingToken))
            return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(stoppingToken);
                await Task.Delay(Gather, time, stoppingToken);
                if (!await SendAsync())
                    await Task.Delay(RetryAfter, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Sends what is pending to every partition at once; false if some partition failed (its changes are pending again).</summary>
    private async Task<bool> SendAsync()
    {
        var taken = new ClientIndexChange[ClientIndexPartitions.Count][];
        lock (_gate)
        {
            for (var p = 0; p < taken.Length; p++)
            {
                taken[p] = [.. _pending[p]];
                _pending[p].Clear();
                _snapshotAt[p].Clear();
            }
        }
        var sent = await Task.WhenAll(taken.Select((changes, p) => SendAsync(p, changes)));
        sync.Wake();
        if (sent.All(s => s))
            return true;
        Wake();
        return false;
    }

    private async Task<bool> SendAsync(int partition, ClientIndexChange[] changes)
    {
        var done = 0;
        try
        {
            var feed = grains.GetGrain<IClientIndexFeedGrain>(partition);
            foreach (var chunk in changes.Chunk(MaxPerCall))
            {
                await feed.Apply(chunk);
                done += chunk.Length;
            }
            return true;
        }
        catch (Exception e)
        {
            LogSendFailed(logger, e, partition, changes.Length - done);
            lock (_gate)
            {
                // Ahead of what came meanwhile, so a client's later change still wins.
                _pending[partition].InsertRange(0, changes.Skip(done));
                _snapshotAt[partition].Clear();
                for (var i = 0; i < _pending[partition].Count; i++)
                {
                    if (_pending[partition][i].Kind == ClientIndexChangeKind.Client)
                        _snapshotAt[partition][_pending[partition][i].ClientId] = i;
                }
            }
            return false;
        }
    }

    private void Wake() => _wake.Wake();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client index feed partition {Partition} did not take {Changes} changes; sending them again")]
    private static partial void LogSendFailed(ILogger logger, Exception exception, int partition, int changes);
}
