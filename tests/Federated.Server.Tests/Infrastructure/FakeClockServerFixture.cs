using Federated.Contracts.Scheduling;
using Federated.Protos.V1;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Federated.Server.Tests.Infrastructure;

/// <summary>
/// One coordinator for a test class whose grains and services all read a fake clock: a test moves time on with
/// <see cref="AdvanceAsync"/> (which also runs the job's scheduler tick) instead of waiting for a deadline. Polls that
/// expect no task use a wait of 0: a long poll waits in fake time too.
/// </summary>
public sealed class FakeClockServerFixture : IAsyncLifetime
{
    private readonly TemporaryDirectory _folder = new();
    private GrpcChannel? _channel;

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public LocalServer Server { get; private set; } = null!;

    public Coordinator.CoordinatorClient Coordinator { get; private set; } = null!;

    public Operator.OperatorClient Operator { get; private set; } = null!;

    public IGrainFactory Grains => Server.App.Services.GetRequiredService<IGrainFactory>();

    public async Task InitializeAsync()
    {
        Server = await LocalServer.StartAsync(_folder["server"], Serilog.Core.Logger.None, settings: new Dictionary<string, string?>
        {
            ["Server:MaxUpdateBytes"] = ServerFixture.MaxUpdateBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, time: Clock);
        _channel = GrpcChannel.ForAddress(Server.GrpcAddress);
        Coordinator = TestClients.Coordinator(_channel);
        Operator = new Operator.OperatorClient(_channel);
    }

    /// <summary>Moves the clock on and lets the job's scheduler handle what fell due (deadlines, timeouts), as its timer would.</summary>
    public async Task AdvanceAsync(TimeSpan by, string jobId)
    {
        Clock.Advance(by);
        await Grains.GetGrain<ISchedulerGrain>(jobId).Tick();
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        await Server.DisposeAsync();
        _folder.Dispose();
    }
}
