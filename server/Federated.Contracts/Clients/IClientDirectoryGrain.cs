namespace Federated.Contracts.Clients;

/// <summary>The list of enrolled clients (one grain, key 0).</summary>
public interface IClientDirectoryGrain : IGrainWithIntegerKey
{
    Task Register(string clientId);

    Task<string[]> ListClients();
}
