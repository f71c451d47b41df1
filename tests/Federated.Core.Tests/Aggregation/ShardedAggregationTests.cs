using Federated.Core.Adapters;
using Federated.Core.Aggregation;
using Federated.Core.Tensors;

namespace Federated.Core.Tests.Aggregation;

public sealed class ShardedAggregationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sharded-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Shards_hold_whole_layers_in_order()
    {
        string[] modules =
        [
            "model.layers.0.self_attn.q_proj", "model.layers.0.mlp.up_proj",
            "model.layers.1.self_attn.q_proj", "model.layers.1.mlp.up_proj",
            "model.layers.2.self_attn.q_proj", "lm_head",
        ];
        var plan = ShardedAggregation.PlanShards(modules, 2);
        Assert.Equal(2, plan.Count);
        Assert.Equal(modules[..4], plan[0]);
        Assert.Equal(modules[4..], plan[1]);
        Assert.Equal(4, ShardedAggregation.PlanShards(modules, 100).Count); // never more shards than layers
        Assert.Equal(modules, ShardedAggregation.PlanShards(modules, 1).Single());
    }

    [Theory]
    [InlineData("stacking")]
    [InlineData("zero-padding")]
    [InlineData("flexlora")]
    public async Task Aggregating_shard_by_shard_and_joining_the_parts_equals_aggregating_at_once(string name)
    {
        var strategy = AggregationStrategies.Create(name);
        var adapters = new[] { 2, 4, 6 }.Select((rank, k) => SpreadOverLayers(RandomAdapters.Create(rank, 1.0 + k, 70 + (ulong)k))).ToList();
        var updates = new List<StoredUpdate>();
        for (int k = 0; k < adapters.Count; k++)
        {
            var path = Path.Combine(_folder, $"update-{k}.safetensors");
            await AdapterSerializer.WriteFileAsync(path, adapters[k]);
            updates.Add(new StoredUpdate(path, k + 1, $"client {k}"));
        }
        var whole = strategy.Aggregate(adapters.Select((a, k) => new WeightedAdapter(a, k + 1, $"client {k}")).ToList(), [2, 4]);

        var modules = await AdapterSerializer.ReadModuleNamesAsync(updates[0].Path);
        Assert.Equal(3, ShardedAggregation.PlanShards(modules, 3).Count);
        var parts = new List<string>();
        var viewParts = new List<string>();
        foreach (var (shard, i) in ShardedAggregation.PlanShards(modules, 3).Select((s, i) => (s, i)))
        {
            var outcome = await ShardedAggregation.AggregateShardAsync(strategy, updates, shard, [2, 4]);
            parts.Add(Path.Combine(_folder, $"part-{i}.safetensors"));
            await AdapterSerializer.WriteFileAsync(parts[^1], outcome.Global);
            viewParts.Add(Path.Combine(_folder, $"view-{i}.safetensors"));
            await AdapterSerializer.WriteFileAsync(viewParts[^1], outcome.For(2));
        }
        var joined = await Join(parts, "joined");
        var joinedView = await Join(viewParts, "joined-view");

        Assert.Equal(whole.Global.ModuleNames, joined.ModuleNames);
        Assert.All(AdapterComparison.Diff(joined, whole.Global), d => Assert.True(d.RelativeError < 1e-6, $"{d.Module}: {d.RelativeError}"));
        Assert.All(AdapterComparison.Diff(joinedView, whole.For(2)), d => Assert.True(d.RelativeError < 1e-6, $"{d.Module}: {d.RelativeError}"));
    }

    [Fact]
    public async Task Streaming_stacking_from_files_writes_exactly_what_stacking_in_memory_does()
    {
        var adapters = new[] { 3, 1, 5, 2 }.Select((rank, k) => RandomAdapters.Create(rank, 0.5 + k, 500 + (ulong)k)).ToList();
        var updates = await Store(adapters);
        var expected = StackingStrategy.Stack(adapters.Select((a, k) => new WeightedAdapter(a, 10 * (k + 1), $"client {k}")).ToList());

        var path = Path.Combine(_folder, "streamed.safetensors");
        int rank;
        await using (var stream = File.Create(path))
            rank = await new StreamingStacking().WriteAsync(updates, null, stream);
        var streamed = await AdapterSerializer.ReadFileAsync(path);

        Assert.Equal(11, rank);
        Assert.Equal(expected.ModuleNames, streamed.ModuleNames);
        foreach (var module in expected.ModuleNames)
        {
            Assert.Equal(expected[module].A.Data, streamed[module].A.Data);
            Assert.Equal(expected[module].B.Data, streamed[module].B.Data);
        }
        Assert.Equal(AdapterSerializer.ToBytes(expected), await File.ReadAllBytesAsync(path));

        // An asynchronous scheduler's absolute weights: the same mix, scaled by Σw.
        await using (var stream = File.Create(path))
            await new StreamingStacking().WriteAsync(updates, null, stream, scale: 0.45);
        var scaled = await AdapterSerializer.ReadFileAsync(path);
        Assert.Equal(0.45, scaled.Scale);
        Assert.Equal(expected[expected.ModuleNames[0]].A.Data, scaled[expected.ModuleNames[0]].A.Data);
    }

    [Fact]
    public async Task Streaming_stacking_refuses_mismatched_updates_naming_the_module_and_client()
    {
        var good = RandomAdapters.Create(2, 1.0, 1);
        var module = RandomAdapters.Shapes[1].Module;
        var partial = new LoraAdapter(good.Modules.Where(m => m.Key != module), 1.0);
        var updates = await Store([good, partial]);
        var error = await Assert.ThrowsAsync<AdapterFormatException>(() => new StreamingStacking().WriteAsync(updates, null, Stream.Null));
        Assert.Contains(module, error.Message);
        Assert.Contains("client 1", error.Message);
    }

    private async Task<List<StoredUpdate>> Store(IReadOnlyList<LoraAdapter> adapters)
    {
        var updates = new List<StoredUpdate>();
        for (int k = 0; k < adapters.Count; k++)
        {
            var path = Path.Combine(_folder, $"stored-{k}.safetensors");
            await AdapterSerializer.WriteFileAsync(path, adapters[k]);
            updates.Add(new StoredUpdate(path, 10 * (k + 1), $"client {k}"));
        }
        return updates;
    }

    [Fact]
    public async Task Joining_parts_with_different_metadata_or_a_missing_module_is_refused()
    {
        var a = Path.Combine(_folder, "a.safetensors");
        var b = Path.Combine(_folder, "b.safetensors");
        await AdapterSerializer.WriteFileAsync(a, RandomAdapters.Create(2, 1.0, 1));
        await AdapterSerializer.WriteFileAsync(b, RandomAdapters.Create(2, 3.0, 2));
        await using var output = new MemoryStream();
        var error = await Assert.ThrowsAsync<SafeTensorsFormatException>(() => SafeTensorsSlices.ConcatenateAsync([a, b], output));
        Assert.Contains("metadata differs", error.Message);

        var missing = await Assert.ThrowsAsync<AdapterFormatException>(() => AdapterSerializer.ReadModulesAsync(a, ["model.layers.9.mlp.up_proj"]));
        Assert.Contains("'base_model.model.model.layers.9.mlp.up_proj.lora_A.weight' is missing", missing.Message);
    }

    /// <summary>The same factors with module i moved to decoder layer i, so there are layers to shard.</summary>
    private static LoraAdapter SpreadOverLayers(LoraAdapter adapter)
        => new(adapter.ModuleNames.Select((m, i) => new KeyValuePair<string, LoraFactors>(m.Replace("layers.0.", $"layers.{i}.", StringComparison.Ordinal), adapter[m])), adapter.Scale);

    private async Task<LoraAdapter> Join(IReadOnlyList<string> parts, string name)
    {
        var path = Path.Combine(_folder, name + ".safetensors");
        await using (var stream = File.Create(path))
            await SafeTensorsSlices.ConcatenateAsync(parts, stream);
        return await AdapterSerializer.ReadFileAsync(path);
    }
}
