using Federated.Contracts.Aggregation;
using Federated.Core.Aggregation;
using Federated.Server.Storage;
using Federated.Server.Storage.Blobs;

namespace Federated.Server.Aggregation;

/// <summary>Aggregates one shard of layers: reads only those modules of each stored update (a local file, or this silo's copy), writes the parts back to the store as scratch.</summary>
[GrainType("aggregation-shard")]
public sealed class AggregationShardGrain(AdapterStore store) : Grain, IAggregationShardGrain
{
    public async Task<ShardResult> Aggregate(string strategy, AggregationInput[] inputs, string[] modules, int[] clientRanks, double scale)
    {
        // The aggregator verified every input this round; a copy made here (no files backend) is verified as it is made.
        var files = new List<LocalAdapterFile>();
        try
        {
            foreach (var input in inputs)
                files.Add(await store.OpenLocalAsync(input.Sha256, verify: false));
            var updates = inputs.Select((i, k) => new StoredUpdate(files[k].Path, i.Weight, $"client '{i.ClientId}'")).ToList();
            var aggregation = AggregationStrategies.Create(strategy);
            // Off the grain's scheduler: file IO and arithmetic only, no grain calls. Parts are scratch: the aggregator
            // deletes them once joined.
            var output = await Task.Run(() => ShardedAggregation.WriteShardAsync(aggregation, updates, modules, clientRanks, async write => (await store.WriteAsync(write, scratch: true)).Sha256, scale));
            DeactivateOnIdle(); // one use per round
            return new ShardResult(output.Global, output.GlobalRank, new Dictionary<int, string>(output.Views));
        }
        finally
        {
            foreach (var file in files)
                await file.DisposeAsync();
        }
    }
}
