using Federated.Contracts.Aggregation;
using Federated.Core.Adapters;
using Federated.Core.Aggregation;
using Federated.Core.Runtime;
using Federated.Server.Storage;

namespace Federated.Server.Aggregation;

/// <summary>Aggregates one shard of layers: reads only those modules of each stored update, writes the parts back to the store.</summary>
[GrainType("aggregation-shard")]
public sealed class AggregationShardGrain(AdapterStore store) : Grain, IAggregationShardGrain
{
    public async Task<ShardResult> Aggregate(string strategy, AggregationInput[] inputs, string[] modules, int[] clientRanks, double scale)
    {
        var updates = inputs.Select(i => new StoredUpdate(store.PathOf(i.Sha256), i.Weight, $"client '{i.ClientId}'")).ToList();
        var aggregation = AggregationStrategies.Create(strategy);
        var outcome = await ComputeThread.Run(() => ShardedAggregation.AggregateShardAsync(aggregation, updates, modules, clientRanks).GetAwaiter().GetResult());
        if (scale != 1.0)
            outcome = outcome.Scaled(scale);
        var (global, _) = await store.WriteAsync(stream => AdapterSerializer.WriteAsync(stream, outcome.Global));
        var views = new Dictionary<int, string>();
        foreach (var (rank, view) in outcome.ClientViews)
            views[rank] = (await store.WriteAsync(stream => AdapterSerializer.WriteAsync(stream, view))).Sha256;
        DeactivateOnIdle(); // one use per round
        return new ShardResult(global, outcome.Global.Rank, views);
    }
}
