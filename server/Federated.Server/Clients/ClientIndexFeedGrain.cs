using Federated.Contracts.Clients;
using Federated.Contracts.Errors;
using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;

namespace Federated.Server.Clients;

/// <summary>
/// One partition (key 0 to <see cref="ClientIndexPartitions.Count"/> − 1) of the client index's changes in
/// Postgres mode: every silo's <see cref="ClientIndexPublisher"/> sends it the changes of its clients, and every
/// silo's <see cref="ClientIndexSync"/> pulls the changes after the version it last saw.
/// </summary>
public interface IClientIndexFeedGrain : IGrainWithIntegerKey
{
    Task Apply(ClientIndexChange[] changes);

    /// <summary>
    /// The latest change of each entry newer than <paramref name="version"/>, oldest first, at most
    /// <paramref name="max"/>; every entry when <paramref name="epoch"/> is not this activation's (it was
    /// reactivated: versions started again).
    /// </summary>
    Task<ClientIndexFeedPage> ChangesSince(Guid epoch, long version, int max);
}

/// <summary>
/// Kept in memory only: the latest change of each entry (a client's snapshot, its last assignment, what each job
/// says of it) in a list ordered by version, so a pull walks only what changed since. A partition that
/// reactivates (its silo died) refills from the client directory and asks the running jobs' schedulers to
/// publish again; its new epoch tells the readers to take everything afresh.
/// </summary>
[GrainType("client-index-feed")]
public sealed partial class ClientIndexFeedGrain(ILogger<ClientIndexFeedGrain> logger) : Grain, IClientIndexFeedGrain
{
    private const int RefillBatch = 256;

    private readonly LinkedList<ClientIndexChange> _log = new();
    private readonly Dictionary<(ClientIndexChangeKind, string, string), LinkedListNode<ClientIndexChange>> _entries = [];
    private readonly Guid _epoch = Guid.NewGuid();
    private long _version;

    private int Partition => (int)this.GetPrimaryKeyLong();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RefillAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // It fills as clients are heard from; readers show what there is meanwhile.
            LogRefillFailed(logger, e, Partition);
        }
        await base.OnActivateAsync(cancellationToken);
    }

    public Task Apply(ClientIndexChange[] changes)
    {
        foreach (var change in changes)
            Take(change, seed: false);
        return Task.CompletedTask;
    }

    public Task<ClientIndexFeedPage> ChangesSince(Guid epoch, long version, int max)
    {
        if (epoch != _epoch)
            version = 0;
        var start = _log.Last;
        while (start?.Previous is { } previous && previous.Value.Version > version)
            start = previous;
        var changes = new List<ClientIndexChange>();
        for (var node = start; node is not null && changes.Count < max; node = node.Next)
        {
            if (node.Value.Version > version)
                changes.Add(node.Value);
        }
        var more = changes.Count == max && changes[^1].Version < _version;
        return Task.FromResult(new ClientIndexFeedPage(_epoch, more ? changes[^1].Version : _version, [.. changes], more));
    }

    private void Take(ClientIndexChange change, bool seed)
    {
        switch (change.Kind)
        {
            case ClientIndexChangeKind.Client:
                if (!seed || !_entries.ContainsKey(Key(change)))
                    Set(change);
                break;
            case ClientIndexChangeKind.JobState:
                // A state cleared that was never set needs no entry; one that was set must be cleared on every reader.
                if (change.JobState is not null || _entries.ContainsKey(Key(change)))
                    Set(change);
                break;
            case ClientIndexChangeKind.Assignment:
                if (!_entries.TryGetValue(Key(change), out var known) || known.Value.Assignment!.IssuedAt <= change.Assignment!.IssuedAt)
                    Set(change);
                break;
            case ClientIndexChangeKind.JobReplaced:
                var states = change.States ?? [];
                var stale = _entries.Values.Select(n => n.Value)
                    .Where(c => c.Kind == ClientIndexChangeKind.JobState && c.JobId == change.JobId && c.JobState is not null && !states.ContainsKey(c.ClientId))
                    .ToList();
                foreach (var gone in stale)
                    Set(gone with { JobState = null });
                foreach (var (clientId, state) in states)
                    Set(new ClientIndexChange(ClientIndexChangeKind.JobState, clientId, change.JobId, JobState: state));
                break;
            default:
                throw new ArgumentException($"unknown client index change {change.Kind}", nameof(change));
        }
    }

    private void Set(ClientIndexChange change)
    {
        var key = Key(change);
        if (_entries.TryGetValue(key, out var node))
            _log.Remove(node);
        _entries[key] = _log.AddLast(change with { Version = ++_version });
    }

    private static (ClientIndexChangeKind, string, string) Key(ClientIndexChange change) => (change.Kind, change.ClientId, change.JobId ?? "");

    /// <summary>This partition's clients from their grains, then the running jobs' schedulers publish what they say of them (through the publisher).</summary>
    private async Task RefillAsync(CancellationToken cancellationToken)
    {
        var ids = await GrainFactory.GetGrain<IClientDirectoryGrain>(0).ListClients();
        var mine = ids.Where(id => ClientIndexPartitions.Of(id) == Partition).ToArray();
        foreach (var batch in mine.Chunk(RefillBatch))
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var client in await Task.WhenAll(batch.Select(SnapshotOrNull)))
            {
                if (client is not null)
                    Take(new ClientIndexChange(ClientIndexChangeKind.Client, client.ClientId, Client: client), seed: true);
            }
        }
        // Not awaited: a scheduler busy aggregating must not hold up the partition's readers.
        foreach (var jobId in await GrainFactory.GetGrain<IJobDirectoryGrain>(0).ListActiveJobs())
            GrainFactory.GetGrain<ISchedulerGrain>(jobId).PublishClients().Ignore();
        LogRefilled(logger, Partition, mine.Length);
    }

    private async Task<ClientSnapshot?> SnapshotOrNull(string clientId)
    {
        try
        {
            return await GrainFactory.GetGrain<IClientGrain>(clientId).GetSnapshot();
        }
        catch (FederatedException e) when (e.Error == FederatedError.NotFound)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Client index feed partition {Partition} filled from the client directory: {Clients} clients")]
    private static partial void LogRefilled(ILogger logger, int partition, int clients);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client index feed partition {Partition} could not fill from the client directory; it fills as clients are heard from")]
    private static partial void LogRefillFailed(ILogger logger, Exception exception, int partition);
}
