using System.Text.Json;
using Federated.Core.Adapters;
using Federated.Protos.V1;
using Federated.Server.Storage;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Federated.Server.Tests.EndToEnd;

/// <summary>Real jobs under each asynchronous scheduling policy: a server, client daemons, training and evaluation.</summary>
public class SchedulerPolicyTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("fedcompass")]
    [InlineData("fedasync")]
    [InlineData("fedbuff")]
    public async Task Two_clients_complete_a_job_with_evaluation_after_every_aggregation(string policy)
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var settings = new LocalRunSettings
        {
            Clients = 2,
            Rounds = 4,
            Ranks = [2, 4],
            LocalSteps = 6,
            ExamplesPerClient = 40,
            EvaluationExamples = 20,
            OutputDirectory = folder.Path,
            Scheduler = policy,
            BufferSize = 2,
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var result = await LocalFederation.RunAsync(settings, logger, cancellationToken: timeout.Token);

        var job = result.Job;
        Assert.Equal(JobState.Completed, job.State);
        Assert.Equal(policy, job.Spec.Scheduler.Policy);
        Assert.Equal(4, job.CompletedRounds);
        Assert.Equal([1, 2, 3, 4], job.Rounds.Select(r => r.Round));
        Assert.NotNull(job.Baseline);
        Assert.All(job.Rounds, r => Assert.NotNull(r.Evaluation));
        output.WriteLine(string.Join("; ", job.Rounds.Select(r => $"v{r.Round}: {string.Join(",", r.Participants.Select(p => $"{p.ClientId}×{p.Weight:F3}"))}")));

        // Federation weighting: α · S(τ) · n_k / N, N = both clients' samples (both ask as they start, before any update).
        var first = job.Rounds[0];
        var samples = job.Rounds.SelectMany(r => r.Participants).GroupBy(p => p.ClientId).ToDictionary(g => g.Key, g => (double)g.First().NumSamples);
        var federation = samples.Values.Sum();
        switch (policy)
        {
            case "fedbuff":
                Assert.All(job.Rounds, r => Assert.Equal(2, r.Participants.Count));
                Assert.All(first.Participants, p => Assert.Equal(0.9 * p.NumSamples / federation, p.Weight, 9)); // nothing stale yet
                break;
            case "fedasync":
                Assert.All(job.Rounds, r => Assert.Single(r.Participants));
                Assert.Equal(0.9 * first.Participants[0].NumSamples / federation, first.Participants[0].Weight, 9); // α · S(0) · n_k/N
                break;
            case "fedcompass":
                // A client's first update is applied on its own.
                foreach (var clientId in new[] { "client-1", "client-2" })
                    Assert.Single(job.Rounds.First(r => r.Participants.Any(p => p.ClientId == clientId)).Participants);
                Assert.Equal(0.9 * first.Participants[0].NumSamples / federation, first.Participants[0].Weight, 9);
                break;
        }

        // The stored global update is Σ w_k ΔW_k with the policy's absolute weights, not renormalised.
        var store = new AdapterStore(Path.Combine(folder.Path, "server", "adapters"));
        var global = await store.ReadAdapterAsync(first.GlobalUpdateSha256);
        var updates = new List<(LoraAdapter Adapter, double Weight)>();
        foreach (var participant in first.Participants)
            updates.Add((await store.ReadAdapterAsync(participant.UpdateSha256), participant.Weight));
        foreach (var module in global.ModuleNames)
        {
            var expected = AdapterMath.WeightedSum(updates.Select(u => (AdapterMath.Delta(u.Adapter[module], u.Adapter.Scale), u.Weight)));
            var actual = AdapterMath.Delta(global[module], global.Scale);
            Assert.True(AdapterMath.RelativeError(actual, expected) < 1e-5, $"{module}: global update differs from Σ w_k ΔW_k");
        }
    }

    [Fact]
    public async Task A_fedcompass_job_resumes_its_scheduler_state_after_the_server_restarts_and_completes()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var settings = new LocalRunSettings
        {
            Clients = 2,
            Rounds = 5,
            Ranks = [2, 4],
            LocalSteps = 10,
            ExamplesPerClient = 40,
            EvaluationExamples = 20,
            OutputDirectory = folder.Path,
            JobId = "compass-restart",
            Scheduler = "fedcompass",
        };
        var shards = LocalFederation.WriteClientData(settings, folder.Path);
        var serverData = folder["server"];
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));

        JobStatus before;
        await using (var server = await LocalServer.StartAsync(serverData, logger, cancellationToken: timeout.Token))
        {
            using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
            var operatorClient = new Operator.OperatorClient(channel);
            await operatorClient.CreateJobAsync(new CreateJobRequest { Spec = LocalFederation.JobSpec(settings) }, cancellationToken: timeout.Token);
            var clients = await LocalFederation.StartClientsAsync(server.GrpcAddress, shards, folder.Path, logger, cancellationToken: timeout.Token);
            before = await LocalFederation.WatchAsync(operatorClient, settings.JobId, null, timeout.Token, until: s => s.CompletedRounds >= 2);
            foreach (var client in clients)
                await client.DisposeAsync();
            before = await operatorClient.GetJobAsync(new GetJobRequest { JobId = settings.JobId });
        }
        var saved = PolicyState(serverData, settings.JobId);
        Assert.Equal("fedcompass", saved.GetProperty("policy").GetString());
        Assert.True(saved.GetProperty("Version").GetInt64() >= before.CompletedRounds); // a group may close after the last look
        foreach (var client in saved.GetProperty("Clients").EnumerateObject())
            Assert.True(client.Value.GetProperty("SecondsPerStep").GetDouble() > 0, $"{client.Name} has no measured speed");
        var savedTaskIds = saved.GetProperty("NextTaskId").GetInt64();
        var savedUpdates = Received(saved);

        await using (var server = await LocalServer.StartAsync(serverData, logger, cancellationToken: timeout.Token))
        {
            using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
            var operatorClient = new Operator.OperatorClient(channel);
            var clients = await LocalFederation.StartClientsAsync(server.GrpcAddress, shards, folder.Path, logger, cancellationToken: timeout.Token);
            var done = await LocalFederation.WatchAsync(operatorClient, settings.JobId, null, timeout.Token, until: s => s.State != JobState.Running);
            foreach (var client in clients)
                await client.DisposeAsync();

            Assert.Equal(JobState.Completed, done.State);
            Assert.Equal(5, done.CompletedRounds);
            Assert.Equal(before.Rounds.Select(r => r.GlobalUpdateSha256), done.Rounds.Take(before.Rounds.Count).Select(r => r.GlobalUpdateSha256));
        }
        var after = PolicyState(serverData, settings.JobId);
        Assert.True(after.GetProperty("NextTaskId").GetInt64() > savedTaskIds);
        Assert.True(Received(after) > savedUpdates, "updates counted before the restart were kept and more were added");
        Assert.True(after.GetProperty("Version").GetInt64() >= 5);
    }

    private static long Received(JsonElement state)
        => state.GetProperty("Clients").EnumerateObject().Sum(c => c.Value.GetProperty("UpdatesReceived").GetInt64());

    /// <summary>The fedcompass state the scheduler grain persisted, read from the server's data directory.</summary>
    private static JsonElement PolicyState(string serverData, string jobId)
    {
        var path = Directory.GetFiles(Path.Combine(serverData, "state"), $"{jobId}.scheduler.state", SearchOption.AllDirectories).Single();
        var json = StateFiles.Read<Federated.Server.Scheduling.SchedulerState>(path).State.PolicyState;
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
