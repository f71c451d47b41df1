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
/// Kept in memory only (<see cref="ClientIndexFeedLog"/>). A partition that reactivates (its silo died) refills
/// from the client directory and asks the running jobs' schedulers to publish again; its new epoch tells the
/// readers to take everything afresh.
/// </summary>
[GrainType("client-index-feed")]
public sealed partial class ClientIndexFeedGrain(ILogger<ClientIndexFeedGrain> logger) : Grain, IClientIndexFeedGrain
{
    private const int RefillBatch = 256;

    private readonly ClientIndexFeedLog _log = new(Guid.NewGuid());

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
            _log.Take(change, seed: false);
        return Task.CompletedTask;
    }

    public Task<ClientIndexFeedPage> ChangesSince(Guid epoch, long version, int max) => Task.FromResult(_log.ChangesSince(epoch, version, max));

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
                    _log.Take(new ClientIndexChange(ClientIndexChangeKind.Client, client.ClientId, Client: client), seed: true);
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
