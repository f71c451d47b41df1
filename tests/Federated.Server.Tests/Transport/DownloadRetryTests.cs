using System.Security.Cryptography;
using Federated.Client.Hosting;
using Federated.Client.Transport;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Transport;

/// <summary>A task's download broken on the way by a silo that dies is started again through the next address.</summary>
public class DownloadRetryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_download_cut_when_its_address_goes_away_is_fetched_again_through_the_next_one()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var server = await LocalServer.StartAsync(folder["server"], logger, cancellationToken: timeout.Token);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var spec = new JobSpec { JobId = "fetched", BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 1, LocalSteps = 1, Scheduler = new SchedulerSpec { Policy = "synchronous" } };
        spec.Ranks.Add(4);
        await new Operator.OperatorClient(channel).CreateJobAsync(new CreateJobRequest { Spec = spec });
        var coordinator = TestClients.Coordinator(channel);
        var stored = await coordinator.UploadRandomUpdate(await coordinator.EnrolAndTakeTask("fetcher"), "fetcher");

        // The first address dies a few KB into the adapter (about 45 KB) and then refuses connections.
        var proxy = new CuttingProxy(server.GrpcPort);
        proxy.CutDownstreamAfterMoreBytes(4096);
        var options = Options.Create(new ClientOptions { ServerAddress = $"{proxy.Address},{server.GrpcAddress}", WorkDirectory = folder["work"], ReconnectMinSeconds = 0.05, ReconnectMaxSeconds = 0.2 });
        var credential = new ClientCredentialStore(options);
        credential.Save(TestClients.CredentialOf("fetcher"));
        using var connection = new CoordinatorConnection(options, credential);
        var health = new DaemonHealth();
        var retry = new TransportRetry(options, health, TimeProvider.System, NullLogger<TransportRetry>.Instance);
        var path = folder["adapter.safetensors"];
        var fetching = retry.RunAsync("fetched.t1.fetcher", "download", null, token => connection.DownloadAsync("fetcher", stored.Sha256, path, token), timeout.Token);
        await proxy.Cut.Task.WaitAsync(timeout.Token);
        await proxy.DisposeAsync();

        await fetching.WaitAsync(timeout.Token);
        Assert.True(health.Unreachable >= 1); // it did fail once and was tried again
        Assert.Equal(stored.Sha256, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(path, timeout.Token))));
    }
}
