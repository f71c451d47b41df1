using Federated.Core.Adapters;

namespace Federated.Core.Aggregation;

/// <summary>
/// Stacking aggregation (FLoRA, Wang et al., 2024), the default. Client k sends ΔW_k = s_k · B_k · A_k with
/// its own rank r_k. Stacking the factors, B = [B_1 … B_K] by columns and A = [p_1 s_1 A_1; …; p_K s_K A_K]
/// by rows, gives B · A = Σ_k p_k s_k B_k A_k: the weighted mean of the updates, exactly, for any mix of
/// ranks. The result has scale 1 and rank Σ r_k; every client merges the same update.
/// </summary>
public sealed class StackingStrategy : IAggregationStrategy
{
    public string Name => AggregationStrategies.Stacking;

    public AggregationOutcome Aggregate(IReadOnlyList<WeightedAdapter> inputs, IReadOnlyCollection<int> clientRanks)
        => AggregationOutcome.Exact(Stack(inputs));

    public static LoraAdapter Stack(IReadOnlyList<WeightedAdapter> inputs)
    {
        var modules = ModuleShapes.Agreed(inputs);
        var weights = AggregationWeights.Normalise(inputs);
        var coefficients = inputs.Select((input, k) => (float)(weights[k] * input.Adapter.Scale)).ToArray();
        var stacked = new List<KeyValuePair<string, LoraFactors>>(modules.Count);
        foreach (var (module, inFeatures, outFeatures) in modules)
            stacked.Add(new(module, StackModule(inputs.Select(i => i.Adapter[module]).ToList(), coefficients, inFeatures, outFeatures)));
        return new LoraAdapter(stacked, scale: 1.0);
    }

    /// <summary>B = [B_1 … B_K], A = [c_1 A_1; …; c_K A_K]: B · A = Σ c_k B_k A_k.</summary>
    public static LoraFactors StackModule(IReadOnlyList<LoraFactors> factors, IReadOnlyList<float> coefficients, int inFeatures, int outFeatures)
    {
        var totalRank = factors.Sum(f => f.Rank);
        var a = new Matrix(totalRank, inFeatures);
        var b = new Matrix(outFeatures, totalRank);
        int offset = 0;
        for (int k = 0; k < factors.Count; k++)
        {
            var f = factors[k];
            var aRows = a.Data.AsSpan(offset * inFeatures, f.Rank * inFeatures);
            System.Numerics.Tensors.TensorPrimitives.Multiply(f.A.Data, coefficients[k], aRows);
            for (int row = 0; row < outFeatures; row++)
                f.B.Row(row).CopyTo(b.Row(row).Slice(offset, f.Rank));
            offset += f.Rank;
        }
        return new LoraFactors(a, b);
    }
}
