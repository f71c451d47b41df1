using System.Collections.Concurrent;
using Federated.Protos.V1;
using Federated.Simulations.LocalRuns;
using Grpc.Core;

namespace Federated.Server.Tests.Infrastructure;

/// <summary>
/// Coordinator clients for tests that drive clients by hand: each client's credential from its first Enrol is sent
/// on its later calls. Kept per server address, falling back to the latest credential of that client id anywhere in
/// the run (a test that restarts its server on new ports, or enrols on one silo and works on another).
/// </summary>
public static class TestClients
{
    private static readonly CredentialKeeper Latest = new();
    private static readonly ConcurrentDictionary<string, CredentialKeeper> ByTarget = new(StringComparer.Ordinal);

    public static Coordinator.CoordinatorClient Coordinator(ChannelBase channel) => CredentialKeeper.Client(channel, Keeper(channel));

    public static CredentialKeeper Keeper(ChannelBase channel) => ByTarget.GetOrAdd(channel.Target, _ => new CredentialKeeper(Latest));

    /// <summary>The credential of <paramref name="clientId"/> enrolled through any test client.</summary>
    public static string CredentialOf(string clientId) => Latest.For(clientId) ?? throw new InvalidOperationException($"client '{clientId}' was not enrolled through a test client");
}
