using Federated.Core.Adapters;
using Federated.Core.Adapters.Peft;
using Federated.Core.Aggregation;
using Federated.Simulations.Commands;

namespace Federated.Server.Tests.Cli;

/// <summary>`federated adapters stack|compact|diff` end to end through the command line parser.</summary>
[Collection("console")]
public sealed class AdapterCommandTests : IDisposable
{
    private readonly TemporaryDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Stack_then_diff_against_a_hand_stacked_adapter_is_exact_and_compact_keeps_the_update()
    {
        var first = await Write("a", Adapter(rank: 2, scale: 2.0, seed: 1));
        var second = await Write("b", Adapter(rank: 4, scale: 0.5, seed: 2));

        Assert.Equal(0, await Cli("adapters", "stack", first, second, "--weights", "3,1", "--out", _folder["stacked"]));
        var stacked = (await PeftAdapterDirectory.ReadAsync(_folder["stacked"])).Adapter;
        var expected = StackingStrategy.Stack([new(Adapter(2, 2.0, 1), 0.75, "a"), new(Adapter(4, 0.5, 2), 0.25, "b")]);
        Assert.Equal(6, stacked.Rank);
        Assert.All(AdapterComparison.Diff(stacked, expected), d => Assert.True(d.RelativeError < 1e-6, $"{d.Module}: {d.RelativeError}"));

        Assert.Equal(0, await Cli("adapters", "compact", _folder["stacked"], _folder["stacked"], "--out", _folder["compacted"]));
        var compacted = (await PeftAdapterDirectory.ReadAsync(_folder["compacted"])).Adapter;
        var doubled = StackingStrategy.Stack([new(stacked, 1, "s"), new(stacked, 1, "s")]); // mean of two copies = one copy
        Assert.All(AdapterComparison.Diff(compacted, new LoraAdapter(doubled.Modules, 2.0)), d => Assert.True(d.RelativeError < 1e-5, $"{d.Module}: {d.RelativeError}"));
        Assert.Equal(6, compacted.Rank); // twice the same rank-6 update is still rank 6

        Assert.Equal(0, await Cli("adapters", "diff", _folder["stacked"], first));
    }

    [Fact]
    public async Task Mismatched_modules_and_bad_weights_exit_with_2()
    {
        var full = await Write("full", Adapter(2, 1.0, 1));
        var adapter = Adapter(2, 1.0, 2);
        var partial = await Write("partial", new LoraAdapter(adapter.Modules.Take(1), 1.0));

        Assert.Equal(2, await Cli("adapters", "stack", full, partial, "--out", _folder["x"]));
        Assert.Equal(2, await Cli("adapters", "diff", full, partial));
        Assert.Equal(2, await Cli("adapters", "stack", full, full, "--weights", "1,-1", "--out", _folder["x"]));
        Assert.Equal(2, await Cli("adapters", "stack", full, full, "--weights", "1", "--out", _folder["x"]));
        Assert.Equal(2, await Cli("adapters", "compact", _folder["missing"], "--out", _folder["x"]));
        Assert.False(Directory.Exists(_folder["x"]));
    }

    private static Task<int> Cli(params string[] args) => FederatedCli.Create().Parse(args).InvokeAsync();

    private async Task<string> Write(string name, LoraAdapter adapter)
    {
        await PeftAdapterDirectory.WriteAsync(_folder[name], adapter);
        return _folder[name];
    }

    private static LoraAdapter Adapter(int rank, double scale, int seed)
    {
        var random = new Random(seed);
        Matrix Fill(int rows, int columns) => new(rows, columns, Enumerable.Range(0, rows * columns).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray());
        return new LoraAdapter(
        [
            new("model.layers.0.self_attn.q_proj", new LoraFactors(Fill(rank, 16), Fill(16, rank))),
            new("model.layers.0.mlp.down_proj", new LoraFactors(Fill(rank, 32), Fill(16, rank))),
        ], scale);
    }
}
