using Federated.Contracts.Clients;
using Federated.Server.Hosting;

namespace Federated.Server.Clients;

/// <summary>Persisted list of enrolled client ids.</summary>
public sealed class ClientDirectoryState
{
    public List<string> Clients { get; set; } = [];
}

[GrainType("client-directory")]
public sealed class ClientDirectoryGrain(
    [PersistentState("clients", StorageNames.State)] IPersistentState<ClientDirectoryState> state) : Grain, IClientDirectoryGrain
{
    private HashSet<string>? _index;

    public async Task Register(string clientId)
    {
        _index ??= [.. state.State.Clients];
        if (!_index.Add(clientId))
            return;
        state.State.Clients.Add(clientId);
        await state.WriteStateAsync();
    }

    public Task<string[]> ListClients() => Task.FromResult(state.State.Clients.ToArray());
}
