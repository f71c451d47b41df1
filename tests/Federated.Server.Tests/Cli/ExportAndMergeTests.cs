using Federated.Core.Adapters;
using Federated.Core.Adapters.Peft;
using Federated.Core.Checkpoints;
using Federated.Core.Model;
using Federated.Protos.V1;
using Federated.Server.Storage;
using Federated.Simulations.Commands;
using Federated.Simulations.LocalRuns;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Federated.Server.Tests.Cli;

/// <summary>`federated job adapter` exports a finished job's global adapter as PEFT; `federated adapters merge` folds it into the base.</summary>
[Collection("console")]
public class ExportAndMergeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_exported_adapter_is_the_sum_of_the_global_updates_and_merging_it_gives_the_global_model()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var settings = new LocalRunSettings { Clients = 2, Rounds = 3, Ranks = [2, 4], LocalSteps = 3, ExamplesPerClient = 30, EvaluationExamples = 10, OutputDirectory = folder.Path };
        var run = await LocalFederation.RunAsync(settings, logger);
        Assert.Equal(JobState.Completed, run.Job.State);

        var store = new AdapterStore(Path.Combine(folder.Path, "server", "adapters"));
        var updates = new List<LoraAdapter>();
        foreach (var round in run.Job.Rounds)
            updates.Add(await store.ReadAdapterAsync(round.GlobalUpdateSha256));

        await using (var server = await LocalServer.StartAsync(Path.Combine(folder.Path, "server"), logger))
        {
            Assert.Equal(0, await Cli("job", "adapter", "demo", "--server", server.GrpcAddress, "--out", folder["global"]));
            Assert.Equal(0, await Cli("job", "adapter", "demo", "--round", "1", "--server", server.GrpcAddress, "--out", folder["round-1"]));
            Assert.Equal(1, await Cli("job", "adapter", "no-such-job", "--server", server.GrpcAddress, "--out", folder["none"]));
        }

        var exported = await PeftAdapterDirectory.ReadAsync(folder["global"]);
        Assert.Equal(BuiltinModels.Tiny, exported.Config.BaseModel);
        foreach (var module in updates[0].ModuleNames)
        {
            var expected = AdapterMath.WeightedSum(updates.Select(u => (AdapterMath.Delta(u[module], u.Scale), 1.0)));
            Assert.True(AdapterMath.RelativeError(AdapterMath.Delta(exported.Adapter[module], exported.Adapter.Scale), expected) < 1e-5, module);
        }
        var first = await PeftAdapterDirectory.ReadAsync(folder["round-1"]);
        Assert.All(AdapterComparison.Diff(first.Adapter, updates[0]), d => Assert.True(d.RelativeError < 1e-5));

        // Merge into a Hugging Face copy of the base: the merged model equals the base with every update merged.
        using (var baseModel = BuiltinModels.Create(BuiltinModels.Tiny, CPU))
            HuggingFaceCheckpoint.Save(baseModel, folder["base"]);
        Assert.Equal(0, await Cli("adapters", "merge", folder["global"], "--base", folder["base"], "--out", folder["merged"]));
        using var merged = ModelCatalog.Load(folder["merged"], CPU);
        using var reference = BuiltinModels.Create(BuiltinModels.Tiny, CPU);
        foreach (var update in updates)
            reference.MergeAdapter(update);
        var mergedParameters = merged.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in reference.named_parameters())
        {
            using var difference = (parameter - mergedParameters[name]).abs().max();
            Assert.True(difference.item<float>() < 1e-5f, $"{name}: {difference.item<float>()}");
        }

        Assert.Equal(2, await Cli("adapters", "merge", folder["global"], "--base", folder["nothing-here"], "--out", folder["x"]));
        Assert.Equal(2, await Cli("adapters", "merge", folder["global"], "--base", folder["base"], "--out", folder["x"], "--dtype", "f8"));
    }

    private static Task<int> Cli(params string[] args) => FederatedCli.Create().Parse(args).InvokeAsync();
}
