using Federated.Client.Hosting;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Cluster;

/// <summary>
/// A daemon given several silos' addresses passes over a dead one and, when the silo it trains through dies
/// mid-job (its connection reset in the middle of a call, then its host stopped), goes on through another
/// without restarting: the cut call is sent again there and the job completes with it in every round.
/// </summary>
public class FailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_daemon_keeps_training_through_the_second_silo_when_the_first_stops_mid_job()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var database = await PostgresServer.CreateDatabaseAsync("failover");
        var a = await TwoSiloTests.StartSiloAsync(folder["shared"], database, logger);
        await using var b = await TwoSiloTests.StartSiloAsync(folder["shared"], database, logger);
        var stopped = false;
        try
        {
            var settings = new LocalRunSettings { Clients = 1, Rounds = 5, Ranks = [2], LocalSteps = 5, ExamplesPerClient = 40, EvaluationExamples = 20, OutputDirectory = folder.Path, JobId = "failover" };
            var shard = LocalFederation.WriteClientData(settings, folder.Path).Single();
            using var toB = GrpcChannel.ForAddress(b.GrpcAddress);
            var operatorOnB = new Operator.OperatorClient(toB);
            var spec = LocalFederation.JobSpec(settings);
            spec.ClientRanks.Clear();
            await operatorOnB.CreateJobAsync(new CreateJobRequest { Spec = spec }, cancellationToken: timeout.Token);

            // Nothing listens on the first address; pick_first passes over it to silo A (reached through a relay
            // that can cut the connection as a crash would), the first that answers.
            var dead = $"http://127.0.0.1:{FreePorts.Next()}";
            await using var toA = new CuttingProxy(a.GrpcPort);
            var small = new Dictionary<string, string?> { ["Client:UploadChunkBytes"] = "4096" }; // an upload of several messages
            await using var client = await LocalClient.StartAsync("roamer", $"{dead},{toA.Address},{b.GrpcAddress}", shard, folder["work"], logger, Core.Runtime.ComputeDevice.Cpu, small, timeout.Token);

            await LocalFederation.WatchAsync(operatorOnB, settings.JobId, null, timeout.Token, until: s => s.CompletedRounds >= 2);
            // Polls, heartbeats and the download's request send far less than 8 KB: the reset comes in the middle
            // of the next upload (about 23 KB), whose trained update must then be sent again through B.
            toA.CutAfterMoreBytes(8192);
            await toA.Cut.Task.WaitAsync(timeout.Token);
            await toA.DisposeAsync(); // from now on A's address refuses connections
            await a.DisposeAsync(); // and the silo leaves the cluster
            stopped = true;

            var final = await LocalFederation.WatchAsync(operatorOnB, settings.JobId, null, timeout.Token);
            Assert.Equal(JobState.Completed, final.State);
            Assert.Equal(5, final.CompletedRounds);
            Assert.All(final.Rounds, r => Assert.Equal("roamer", Assert.Single(r.Participants).ClientId));
            var health = client.Host.Services.GetRequiredService<DaemonHealth>();
            Assert.Null(health.FatalError); // the same daemon, never stopped or restarted
            Assert.Empty(Directory.GetFiles(folder["work/updates"])); // every trained update was delivered
        }
        finally
        {
            if (!stopped)
                await a.DisposeAsync();
        }
    }
}
