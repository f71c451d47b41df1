namespace Federated.Contracts.Aggregation;

/// <summary>Combines a round's client updates into one global update (key: job id).</summary>
public interface IAggregatorGrain : IGrainWithStringKey
{
    Task<AggregationResult> Aggregate(int round, AggregationInput[] inputs);
}
