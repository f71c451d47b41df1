using Federated.Client.Hosting;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Federated.Server.Tests.EndToEnd;

public class ReconnectTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_client_started_before_its_server_keeps_trying_and_trains_once_the_server_is_up()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var settings = new LocalRunSettings { Clients = 1, Rounds = 1, Ranks = [4], LocalSteps = 5, ExamplesPerClient = 40, EvaluationExamples = 20, OutputDirectory = folder.Path, JobId = "late-server" };
        var shard = LocalFederation.WriteClientData(settings, folder.Path).Single();
        int grpc = FreePorts.Next(), http = FreePorts.Next(), silo = FreePorts.Next();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        await using var client = await LocalClient.StartAsync("early-bird", $"http://127.0.0.1:{grpc}", shard, folder["work"], logger, cancellationToken: timeout.Token);
        // Several failed attempts while nothing listens (an event, not a wait on the clock).
        await client.Host.Services.GetRequiredService<DaemonHealth>().UnreachableAtLeast(3).WaitAsync(timeout.Token);

        await using var server = await LocalServer.StartAsync(folder["server"], logger, grpc, http, silo, cancellationToken: timeout.Token);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var operatorClient = new Operator.OperatorClient(channel);
        var spec = LocalFederation.JobSpec(settings);
        spec.ClientRanks.Clear();
        await operatorClient.CreateJobAsync(new CreateJobRequest { Spec = spec }, cancellationToken: timeout.Token);

        var final = await LocalFederation.WatchAsync(operatorClient, settings.JobId, null, timeout.Token);
        Assert.Equal(JobState.Completed, final.State);
        Assert.Equal("early-bird", final.Rounds.Single().Participants.Single().ClientId);
    }
}
