using Federated.Client.Hosting;
using Federated.Core.Runtime;

namespace Federated.Simulations.LocalRuns;

/// <summary>A client daemon running in this process with its own data and work folders.</summary>
public sealed class LocalClient : IAsyncDisposable
{
    private LocalClient(string clientId, IHost host)
    {
        ClientId = clientId;
        Host = host;
    }

    public string ClientId { get; }

    public IHost Host { get; }

    public static async Task<LocalClient> StartAsync(
        string clientId,
        string serverAddress,
        string dataPath,
        string workDirectory,
        Serilog.ILogger logger,
        ComputeDevice device = ComputeDevice.Auto,
        IReadOnlyDictionary<string, string?>? settings = null,
        CancellationToken cancellationToken = default)
    {
        var overrides = new Dictionary<string, string?>
        {
            ["Client:ServerAddress"] = serverAddress,
            ["Client:ClientId"] = clientId,
            ["Client:DataPath"] = dataPath,
            ["Client:WorkDirectory"] = workDirectory,
            ["Client:Device"] = device.ToString(),
            ["Client:PollWaitSeconds"] = "5",
            ["Client:ReconnectMinSeconds"] = "0.2",
            ["Client:ReconnectMaxSeconds"] = "2",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            overrides[key] = value;
        var host = ClientDaemonHost.Build([], overrides, logger.ForContext("ClientId", clientId), standalone: false);
        await host.StartAsync(cancellationToken);
        return new LocalClient(clientId, host);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Host.StopAsync(timeout.Token);
        Host.Dispose();
    }
}
