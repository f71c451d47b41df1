namespace Federated.Core.Aggregation;

/// <summary>
/// Combines client updates ΔW_k = s_k B_k A_k, weighted p_k, into one global update. Strategies differ in
/// how close that update is to the exact weighted mean Σ p_k s_k B_k A_k and in which ranks they accept.
/// </summary>
public interface IAggregationStrategy
{
    /// <summary>The name jobs and the CLI select it by (see <see cref="AggregationStrategies"/>).</summary>
    string Name { get; }

    /// <param name="inputs">Client updates and their weights (normalised here to sum to 1).</param>
    /// <param name="clientRanks">Ranks clients will train at next; strategies with per-rank views make one for each.</param>
    AggregationOutcome Aggregate(IReadOnlyList<WeightedAdapter> inputs, IReadOnlyCollection<int> clientRanks);
}
