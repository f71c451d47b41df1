using Federated.Core.Adapters;

namespace Federated.Core.Aggregation;

/// <summary>
/// FedIT (Zhang et al., 2024) as a baseline: average A and B separately, Ā = Σ p_k A_k and
/// B̄ = Σ p_k s_k B_k. Its update B̄ · Ā is not Σ p_k s_k B_k A_k (the cross terms B_j A_k remain), and it
/// is only defined when every client has the same rank: mixed ranks are refused.
/// </summary>
public sealed class FedItStrategy : IAggregationStrategy
{
    public string Name => AggregationStrategies.FedIt;

    public AggregationOutcome Aggregate(IReadOnlyList<WeightedAdapter> inputs, IReadOnlyCollection<int> clientRanks)
    {
        var modules = ModuleShapes.Agreed(inputs);
        var weights = AggregationWeights.Normalise(inputs);
        var averaged = new List<KeyValuePair<string, LoraFactors>>(modules.Count);
        foreach (var (module, inFeatures, outFeatures) in modules)
        {
            var rank = inputs[0].Adapter[module].Rank;
            foreach (var input in inputs)
            {
                if (input.Adapter[module].Rank != rank)
                    throw new AdapterFormatException($"FedIT averages A and B separately and needs equal ranks, but module '{module}' has rank {input.Adapter[module].Rank} in the adapter from {input.Source} and {rank} in the adapter from {inputs[0].Source}; use stacking for mixed ranks");
            }
            var a = new Matrix(rank, inFeatures);
            var b = new Matrix(outFeatures, rank);
            for (int k = 0; k < inputs.Count; k++)
            {
                var f = inputs[k].Adapter[module];
                FactorSums.AddScaled(a.Data, f.A.Data, (float)weights[k]);
                FactorSums.AddScaled(b.Data, f.B.Data, (float)(weights[k] * inputs[k].Adapter.Scale));
            }
            averaged.Add(new(module, new LoraFactors(a, b)));
        }
        return AggregationOutcome.Exact(new LoraAdapter(averaged, scale: 1.0));
    }
}
