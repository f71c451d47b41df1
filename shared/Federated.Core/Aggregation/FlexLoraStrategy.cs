using Federated.Core.Adapters;

namespace Federated.Core.Aggregation;

/// <summary>
/// FlexLoRA (Bai et al., 2024) as a baseline for mixed ranks: form the exact weighted update
/// ΔW = Σ p_k s_k B_k A_k (the stacked adapter, which is the global update) and give each client the
/// rank-r_k truncated SVD of it. Computed from the stacked factors by <see cref="AdapterCompaction"/>,
/// never as a dense matrix. A client's view loses the singular values beyond its rank.
/// </summary>
public sealed class FlexLoraStrategy : IAggregationStrategy
{
    public string Name => AggregationStrategies.FlexLora;

    public AggregationOutcome Aggregate(IReadOnlyList<WeightedAdapter> inputs, IReadOnlyCollection<int> clientRanks)
    {
        var global = StackingStrategy.Stack(inputs);
        // One SVD serves every rank: the compacted components come largest singular value first.
        var components = AdapterCompaction.Compact([global]).Adapter;
        var views = new Dictionary<int, LoraAdapter>();
        foreach (var rank in clientRanks.Distinct())
        {
            if (rank >= 1)
                views[rank] = components.Truncated(rank);
        }
        return new AggregationOutcome(global, views);
    }
}
