namespace Federated.Contracts.Aggregation;

/// <summary>Combines a round's client updates into one global update (key: job id).</summary>
public interface IAggregatorGrain : IGrainWithStringKey
{
    /// <param name="clientRanks">Ranks clients train at, for strategies that give each rank its own view.</param>
    Task<AggregationResult> Aggregate(int round, string strategy, AggregationInput[] inputs, int[] clientRanks);
}
