using Federated.Core.Adapters;

namespace Federated.Core.Aggregation;

/// <summary>
/// Zero-padding (HetLoRA-style, Cho et al., 2024) as a baseline for mixed ranks: pad every client's factors
/// with zeros to the largest rank r_max, average A and B separately, and hand each client the global factors
/// truncated back to its own rank (its first r_k components). Like FedIT it keeps the cross terms, and
/// truncation drops more; the global update is the padded average at rank r_max.
/// </summary>
public sealed class ZeroPaddingStrategy : IAggregationStrategy
{
    public string Name => AggregationStrategies.ZeroPadding;

    public AggregationOutcome Aggregate(IReadOnlyList<WeightedAdapter> inputs, IReadOnlyCollection<int> clientRanks)
    {
        var modules = ModuleShapes.Agreed(inputs);
        var weights = AggregationWeights.Normalise(inputs);
        var averaged = new List<KeyValuePair<string, LoraFactors>>(modules.Count);
        foreach (var (module, inFeatures, outFeatures) in modules)
        {
            var maxRank = inputs.Max(i => i.Adapter[module].Rank);
            var a = new Matrix(maxRank, inFeatures);
            var b = new Matrix(outFeatures, maxRank);
            for (int k = 0; k < inputs.Count; k++)
            {
                var f = inputs[k].Adapter[module];
                FactorSums.AddScaled(a.Data.AsSpan(0, f.Rank * inFeatures), f.A.Data, (float)weights[k]);
                var coefficient = (float)(weights[k] * inputs[k].Adapter.Scale);
                for (int row = 0; row < outFeatures; row++)
                    FactorSums.AddScaled(b.Row(row)[..f.Rank], f.B.Row(row), coefficient);
            }
            averaged.Add(new(module, new LoraFactors(a, b)));
        }
        var global = new LoraAdapter(averaged, scale: 1.0);
        var views = new Dictionary<int, LoraAdapter>();
        foreach (var rank in clientRanks.Distinct())
        {
            if (rank >= 1 && rank < global.Rank)
                views[rank] = global.Truncated(rank);
        }
        return new AggregationOutcome(global, views);
    }
}
