using Federated.Contracts.Aggregation;
using Federated.Core.Aggregation;
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
        // Off the grain's scheduler: file IO and arithmetic only, no grain calls.
        var output = await Task.Run(() => ShardedAggregation.WriteShardAsync(aggregation, updates, modules, clientRanks, async write => (await store.WriteAsync(write)).Sha256, scale));
        DeactivateOnIdle(); // one use per round
        return new ShardResult(output.Global, output.GlobalRank, new Dictionary<int, string>(output.Views));
    }
}
