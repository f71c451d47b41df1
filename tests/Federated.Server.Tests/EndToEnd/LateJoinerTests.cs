using Federated.Client.Training;
using Federated.Core.Adapters;
using Federated.Core.Model;
using Federated.Protos.V1;
using Federated.Server.Storage;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Federated.Server.Tests.EndToEnd;

/// <summary>A client that joins after round 4 catches up with one compacted update and holds the same weights as one that merged every round.</summary>
public class LateJoinerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_client_joining_after_round_four_catches_up_with_one_compacted_update_to_the_same_weights()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var settings = new LocalRunSettings
        {
            Clients = 2,
            LateClients = 1,
            LateJoinRound = 4,
            // The run holds the early clients until the late one holds a task, so it is in round 5 or 6 whatever
            // the machine's speed, and in every round after it (each round has a place for every client).
            Rounds = 8,
            Ranks = [4, 8],
            LocalSteps = 40,
            ExamplesPerClient = 40,
            EvaluationExamples = 10,
            OutputDirectory = folder.Path,
            Scheduler = "synchronous",
        };
        ModelWorkspace? late = null, early = null;
        var result = await LocalFederation.RunAsync(settings, logger, beforeShutdown: clients =>
        {
            early = clients.Single(c => c.ClientId == "client-1").Host.Services.GetRequiredService<TaskRunner>().Workspace;
            late = clients.Single(c => c.ClientId == "client-2").Host.Services.GetRequiredService<TaskRunner>().Workspace;
            return Compare(early!, late!, folder.Path);
        });

        Assert.Equal(JobState.Completed, result.Job.State);
        Assert.NotNull(late);
        Assert.Equal(1, late!.CompactedMerges);
        Assert.True(late.Merged.Count >= 4, $"the late client merged {late.Merged.Count} updates");
        Assert.Equal(0, early!.CompactedMerges);
        Assert.Contains(result.Job.Rounds, r => r.Participants.Any(p => p.ClientId == "client-2"));
        Assert.DoesNotContain(result.Job.Rounds.Take(settings.LateJoinRound), r => r.Participants.Any(p => p.ClientId == "client-2"));
    }

    /// <summary>
    /// Each workspace equals the base with the updates it covers merged one by one, and the late one covers what
    /// the early one merged, in order, up to the round it last took: so where both merged the same, they hold the
    /// same weights (one compacted merge is exact).
    /// </summary>
    private static async Task Compare(ModelWorkspace early, ModelWorkspace late, string output)
    {
        var store = new AdapterStore(Path.Combine(output, "server", "adapters"));
        foreach (var workspace in new[] { early, late })
        {
            using var reference = new ModelWorkspace("reference", BuiltinModels.Tiny, CPU);
            foreach (var sha in workspace.Merged)
                reference.Merge(sha, await store.ReadAdapterAsync(sha));
            AssertSameWeights(reference.Model, workspace.Model);
        }
        Assert.Equal(early.Merged.Take(late.Merged.Count), late.Merged);
    }

    private static void AssertSameWeights(LlamaForCausalLM expected, LlamaForCausalLM actual)
    {
        var actualParameters = actual.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in expected.named_parameters())
        {
            using var difference = (parameter - actualParameters[name]).abs().max();
            using var scale = parameter.abs().max();
            var relative = difference.item<float>() / Math.Max(scale.item<float>(), 1e-12f);
            Assert.True(relative < 1e-5, $"{name}: relative difference {relative}");
        }
    }
}
