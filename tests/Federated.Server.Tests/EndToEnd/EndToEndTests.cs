using Federated.Core.Adapters;
using Federated.Protos.V1;
using Federated.Server.Storage;
using Federated.Simulations.LocalRuns;
using Xunit.Abstractions;

namespace Federated.Server.Tests.EndToEnd;

/// <summary>A real server (Kestrel on loopback, Orleans silo) and three real client daemons over gRPC.</summary>
public class EndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Three_clients_of_different_ranks_train_two_rounds_and_lower_held_out_loss()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var settings = new LocalRunSettings
        {
            Clients = 3,
            Rounds = 2,
            Ranks = [2, 4, 8],
            LocalSteps = 25,
            ExamplesPerClient = 200,
            EvaluationExamples = 100,
            OutputDirectory = folder.Path,
            Scheduler = "synchronous",
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));

        var result = await LocalFederation.RunAsync(settings, logger, cancellationToken: timeout.Token);

        var job = result.Job;
        Assert.Equal(JobState.Completed, job.State);
        Assert.Equal(2, job.CompletedRounds);
        Assert.NotNull(job.Baseline);
        foreach (var round in job.Rounds)
        {
            Assert.Equal(["client-1", "client-2", "client-3"], round.Participants.Select(p => p.ClientId));
            Assert.Equal([2, 4, 8], round.Participants.Select(p => p.Rank));
            Assert.Equal(14, round.StackedRank);
            Assert.Equal(1.0, round.Participants.Sum(p => p.Weight), 9);
            Assert.NotNull(round.Evaluation);
        }
        var final = job.Rounds[^1].Evaluation;
        output.WriteLine($"held-out loss {job.Baseline.Loss:F3} → {job.Rounds[0].Evaluation.Loss:F3} → {final.Loss:F3}");
        Assert.True(final.Loss < job.Baseline.Loss, $"held-out loss went from {job.Baseline.Loss} to {final.Loss}");
    }

    [Fact]
    public async Task The_stored_global_update_is_exactly_the_weighted_sum_of_the_client_updates()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var settings = new LocalRunSettings
        {
            Clients = 2,
            Rounds = 1,
            Ranks = [3, 5],
            LocalSteps = 5,
            ExamplesPerClient = 50,
            EvaluationExamples = 20,
            OutputDirectory = folder.Path,
            Scheduler = "synchronous",
        };
        var result = await LocalFederation.RunAsync(settings, logger);

        var store = new AdapterStore(Path.Combine(folder.Path, "server", "adapters"));
        var round = result.Job.Rounds.Single();
        var global = await store.ReadAdapterAsync(round.GlobalUpdateSha256);
        var updates = new List<(LoraAdapter Adapter, double Weight)>();
        foreach (var participant in round.Participants)
            updates.Add((await store.ReadAdapterAsync(participant.UpdateSha256), participant.Weight));

        Assert.Equal(0.5, updates[0].Weight, 9); // equal shard sizes
        Assert.Equal(8, global.Rank);
        foreach (var module in global.ModuleNames)
        {
            var expected = AdapterMath.WeightedSum(updates.Select(u => (AdapterMath.Delta(u.Adapter[module], u.Adapter.Scale), u.Weight)));
            var actual = AdapterMath.Delta(global[module], global.Scale);
            Assert.True(AdapterMath.RelativeError(actual, expected) < 1e-5, $"{module}: global update differs from Σ p_k s_k B_k A_k");
        }
    }
}
