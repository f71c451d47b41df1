using Federated.Core.Adapters;
using Federated.Core.Aggregation;
using Federated.Protos.V1;
using Federated.Server.Storage;
using Federated.Simulations.LocalRuns;
using Xunit.Abstractions;

namespace Federated.Server.Tests.EndToEnd;

/// <summary>Aggregation strategies chosen per job, through real rounds.</summary>
public class StrategyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Zero_padding_job_stores_a_truncated_view_per_rank_and_clients_merge_their_own()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var settings = new LocalRunSettings
        {
            Clients = 2,
            Rounds = 2,
            Ranks = [2, 4],
            LocalSteps = 5,
            ExamplesPerClient = 50,
            EvaluationExamples = 20,
            OutputDirectory = folder.Path,
            Scheduler = "synchronous",
            Strategy = AggregationStrategies.ZeroPadding,
        };
        var result = await LocalFederation.RunAsync(settings, logger);

        Assert.Equal(JobState.Completed, result.Job.State);
        Assert.Equal("zero-padding", result.Job.Spec.AggregationStrategy);
        var store = new AdapterStore(Path.Combine(folder.Path, "server", "adapters"));
        foreach (var round in result.Job.Rounds)
        {
            Assert.Equal(4, round.StackedRank); // padded to the largest rank, not stacked to 6
            var view = Assert.Single(round.ClientViews);
            Assert.Equal(2, view.Rank);
            var global = await store.ReadAdapterAsync(round.GlobalUpdateSha256);
            var truncated = await store.ReadAdapterAsync(view.Sha256);
            var expected = global.Truncated(2);
            Assert.All(AdapterComparison.Diff(truncated, expected), d => Assert.True(d.RelativeError < 1e-7));
        }
    }

    [Fact]
    public void A_client_merges_the_view_for_its_rank_where_there_is_one()
    {
        var round = new Federated.Contracts.Jobs.RoundRecord
        {
            Round = 1,
            UpdateSha256 = "global",
            UpdateBytes = 100,
            StackedRank = 16,
            Participants = [],
            StartedAt = DateTimeOffset.UnixEpoch,
            CompletedAt = DateTimeOffset.UnixEpoch,
            ClientViews = [new(4, "view-4", 30), new(8, "view-8", 50)],
        };
        Assert.Equal(("view-4", 30L, 4), round.UpdateFor(4));
        Assert.Equal(("view-8", 50L, 8), round.UpdateFor(8));
        Assert.Equal(("global", 100L, 16), round.UpdateFor(16));
    }
}
