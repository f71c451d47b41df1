using Federated.Contracts.Clients;
using Federated.Server.Hosting;
using Federated.Server.Storage;
using Orleans.Concurrency;

namespace Federated.Server.Clients;

/// <summary>Persisted list of enrolled client ids.</summary>
public sealed class ClientDirectoryState
{
    public List<string> Clients { get; set; } = [];
}

/// <summary>
/// The list of enrolled clients. Reentrant so that registrations arriving together share one write (group
/// commit): each returns once a write that includes its id is on disk, and thousands of clients enrolling at
/// once cost a few dozen writes of the list instead of one each.
/// </summary>
/// <remarks>A damaged state file (moved aside by <see cref="FileGrainStorage"/>) is rebuilt from the client state files on disk.</remarks>
[GrainType("client-directory")]
[Reentrant]
public sealed partial class ClientDirectoryGrain(
    [PersistentState("clients", StorageNames.State)] IPersistentState<ClientDirectoryState> state,
    DamagedStateFiles damaged,
    IServiceProvider services,
    ILogger<ClientDirectoryGrain> logger) : Grain, IClientDirectoryGrain
{
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!state.RecordExists && damaged.Find(this.GetGrainId()) is { } damage
            && services.GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(StorageNames.State) is FileGrainStorage files)
        {
            state.State = new ClientDirectoryState { Clients = [.. files.ListKeys("client", "client")] };
            await state.WriteStateAsync();
            LogRebuilt(logger, damage.Describe(), state.State.Clients.Count);
        }
        await base.OnActivateAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The client directory's {Damage}; rebuilt it from the client state files: {Clients} clients")]
    private static partial void LogRebuilt(ILogger logger, string damage, int clients);

    private readonly List<string> _pending = [];
    private HashSet<string>? _known;
    private Task _writing = Task.CompletedTask;
    private Task? _nextWrite;

    public async Task Register(string clientId)
    {
        _known ??= [.. state.State.Clients];
        if (_known.Add(clientId))
            _pending.Add(clientId);
        else if (!_pending.Contains(clientId) && _nextWrite is null)
            return; // on disk already
        await (_nextWrite ??= WriteNextAsync());
    }

    public Task<string[]> ListClients() => Task.FromResult(state.State.Clients.ToArray());

    /// <summary>After the write under way, writes every id added until then.</summary>
    private async Task WriteNextAsync()
    {
        await _writing.ContinueWith(_ => { }, TaskScheduler.Current);
        _nextWrite = null;
        var batch = _pending.ToArray();
        _pending.Clear();
        var previous = state.State;
        // A new list each time: the serialiser never sees one that a registration is adding to.
        state.State = new ClientDirectoryState { Clients = [.. previous.Clients, .. batch] };
        var write = state.WriteStateAsync();
        _writing = write;
        try
        {
            await write;
        }
        catch
        {
            state.State = previous;
            _known!.ExceptWith(batch);
            throw;
        }
    }
}
