namespace Federated.Contracts.Aggregation;

/// <summary>Combines a round's client updates into one global update (key: job id).</summary>
public interface IAggregatorGrain : IGrainWithStringKey
{
    /// <param name="clientRanks">Ranks clients train at, for strategies that give each rank its own view.</param>
    /// <param name="scale">The mix of updates (weights normalised to sum to 1) is multiplied by this: a scheduler
    /// with absolute weights w_k passes Σ w_k (see Federated.Core.Aggregation.AggregationOutcome.Scaled).</param>
    // Orleans fails a call unanswered after 30 s by default; a big round (64 uploads of a 1B model's adapters,
    // gigabytes read from the store) takes minutes. A silo's death still fails the call as soon as it is declared.
    [ResponseTimeout("01:00:00")]
    Task<AggregationResult> Aggregate(int round, string strategy, AggregationInput[] inputs, int[] clientRanks, double scale);
}
