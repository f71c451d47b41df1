using Federated.Contracts.Errors;
using Federated.Contracts.Jobs;
using Federated.Protos.V1;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Federated.Server.Tests.Infrastructure;

/// <summary>
/// One coordinator for a test class (as a class fixture) or for a collection of them (<see cref="SharedServerCollection"/>),
/// on loopback ports, with a small update size limit.
/// </summary>
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
        Coordinator = TestClients.Coordinator(_channel);
        Operator = new Operator.OperatorClient(_channel);
    }

    /// <summary>Stops every job still running, so that none hands out tasks to clients of a later test.</summary>
    public async Task StopRunningJobsAsync()
    {
        var grains = Server.App.Services.GetRequiredService<IGrainFactory>();
        foreach (var jobId in await grains.GetGrain<IJobDirectoryGrain>(0).ListActiveJobs())
        {
            try
            {
                await grains.GetGrain<IJobGrain>(jobId).Stop();
            }
            catch (FederatedException)
            {
                // it completed (or was stopped) since the listing
            }
        }
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        await Server.DisposeAsync();
        _folder.Dispose();
    }
}
