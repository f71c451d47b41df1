namespace Federated.Contracts.Aggregation;

/// <summary>Aggregates one shard of layers of a round (key: "job/round/shard"); placed anywhere in the cluster.</summary>
public interface IAggregationShardGrain : IGrainWithStringKey
{
    /// <param name="scale">Factor applied to the normalised mix; see <see cref="IAggregatorGrain.Aggregate"/>.</param>
    [ResponseTimeout("01:00:00")] // see IAggregatorGrain.Aggregate
    Task<ShardResult> Aggregate(string strategy, AggregationInput[] inputs, string[] modules, int[] clientRanks, double scale);
}

/// <summary>The stored parts of one shard: the global update's and each per-rank view's.</summary>
[GenerateSerializer]
[Immutable]
public sealed record ShardResult(
    [property: Id(0)] string GlobalSha256,
    [property: Id(1)] int GlobalRank,
    [property: Id(2)] Dictionary<int, string> ViewSha256);
