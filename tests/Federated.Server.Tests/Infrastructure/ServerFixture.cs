using Federated.Protos.V1;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;

namespace Federated.Server.Tests.Infrastructure;

/// <summary>One coordinator for a whole test class, on loopback ports, with a small update size limit.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const long MaxUpdateBytes = 1024 * 1024;
    private readonly TemporaryDirectory _folder = new();
    private GrpcChannel? _channel;

    public LocalServer Server { get; private set; } = null!;

    public Coordinator.CoordinatorClient Coordinator { get; private set; } = null!;

    public Operator.OperatorClient Operator { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await LocalServer.StartAsync(_folder["server"], Serilog.Core.Logger.None, settings: new Dictionary<string, string?>
        {
            ["Server:MaxUpdateBytes"] = MaxUpdateBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Server:SchedulerTickSeconds"] = "1",
        });
        _channel = GrpcChannel.ForAddress(Server.GrpcAddress);
        Coordinator = new Coordinator.CoordinatorClient(_channel);
        Operator = new Operator.OperatorClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        await Server.DisposeAsync();
        _folder.Dispose();
    }
}
