using Federated.Protos.V1;
using Federated.Simulations.LocalRuns;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Federated.Server.Tests.EndToEnd;

public class RestartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_job_continues_at_round_two_with_the_same_history_after_the_server_restarts()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var settings = new LocalRunSettings
        {
            Clients = 2,
            Rounds = 2,
            Ranks = [4, 8],
            LocalSteps = 40,
            ExamplesPerClient = 100,
            EvaluationExamples = 50,
            OutputDirectory = folder.Path,
            Scheduler = "synchronous",
            JobId = "restart",
        };
        var shards = LocalFederation.WriteClientData(settings, folder.Path);
        var serverData = folder["server"];
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));

        // First life: run until round 1 is committed, then stop everything.
        RoundSummary first;
        await using (var server = await LocalServer.StartAsync(serverData, logger, cancellationToken: timeout.Token))
        {
            using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
            var operatorClient = new Operator.OperatorClient(channel);
            await operatorClient.CreateJobAsync(new CreateJobRequest { Spec = LocalFederation.JobSpec(settings) }, cancellationToken: timeout.Token);
            var clients = await LocalFederation.StartClientsAsync(server.GrpcAddress, shards, folder.Path, logger, cancellationToken: timeout.Token);
            var status = await LocalFederation.WatchAsync(operatorClient, settings.JobId, null, timeout.Token, until: s => s.CompletedRounds >= 1);
            foreach (var client in clients)
                await client.DisposeAsync();
            first = status.Rounds[0];
            Assert.Equal(1, (await operatorClient.GetJobAsync(new GetJobRequest { JobId = settings.JobId })).CompletedRounds);
        }

        // Second life: a new process would see only the data directory; so does this server.
        await using (var server = await LocalServer.StartAsync(serverData, logger, cancellationToken: timeout.Token))
        {
            using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
            var operatorClient = new Operator.OperatorClient(channel);
            var resumed = await operatorClient.GetJobAsync(new GetJobRequest { JobId = settings.JobId }, cancellationToken: timeout.Token);
            Assert.Equal(JobState.Running, resumed.State);
            Assert.Equal(1, resumed.CompletedRounds);
            Assert.Equal(first.GlobalUpdateSha256, resumed.Rounds[0].GlobalUpdateSha256);
            Assert.Equal(first.Participants.Select(p => p.UpdateSha256), resumed.Rounds[0].Participants.Select(p => p.UpdateSha256));

            var clients = await LocalFederation.StartClientsAsync(server.GrpcAddress, shards, folder.Path, logger, cancellationToken: timeout.Token);
            var done = await LocalFederation.WatchAsync(operatorClient, settings.JobId, null, timeout.Token, until: s => s.State == JobState.Completed);
            foreach (var client in clients)
                await client.DisposeAsync();

            Assert.Equal(2, done.CompletedRounds);
            Assert.Equal(first.GlobalUpdateSha256, done.Rounds[0].GlobalUpdateSha256);
            Assert.Equal(2, done.Rounds[1].Round);
            Assert.NotEqual(first.GlobalUpdateSha256, done.Rounds[1].GlobalUpdateSha256);
            Assert.True(File.Exists(Path.Combine(serverData, "adapters", "sha256", first.GlobalUpdateSha256[..2], first.GlobalUpdateSha256 + ".safetensors")));
        }
    }
}
