using Federated.Core.Adapters;

namespace Federated.Core.Aggregation;

/// <summary>
/// Stacking aggregation (FLoRA, Wang et al., 2024). Client k sends ΔW_k = s_k · B_k · A_k with its own rank r_k.
/// Stacking the factors, B = [B_1 … B_K] by columns and A = [p_1 s_k A_1; …; p_K s_K A_K] by rows, gives
/// B · A = Σ_k p_k s_k B_k A_k: the weighted mean of the updates, exactly, for any mix of ranks. Averaging A
/// and B separately instead yields mean(B) · mean(A), which is not the mean of the products.
/// The result has scale 1 and rank Σ r_k.
/// </summary>
public static class StackingAggregator
{
    public static LoraAdapter Stack(IReadOnlyList<WeightedAdapter> inputs)
    {
        if (inputs.Count == 0)
            throw new ArgumentException("stacking needs at least one adapter", nameof(inputs));
        var weights = NormalisedWeights(inputs);
        var reference = inputs[0];
        var modules = new List<KeyValuePair<string, LoraFactors>>(reference.Adapter.ModuleNames.Count);
        foreach (var module in reference.Adapter.ModuleNames)
            modules.Add(new(module, StackModule(module, inputs, weights)));
        foreach (var input in inputs.Skip(1))
        {
            foreach (var module in input.Adapter.ModuleNames)
            {
                if (!reference.Adapter.Modules.ContainsKey(module))
                    throw new AdapterFormatException($"adapter from {input.Source} has module '{module}', which the adapter from {reference.Source} lacks");
            }
        }
        return new LoraAdapter(modules, scale: 1.0);
    }

    /// <summary>p_k = w_k / Σ w; every weight must be finite and positive.</summary>
    public static double[] NormalisedWeights(IReadOnlyList<WeightedAdapter> inputs)
    {
        double total = 0;
        foreach (var input in inputs)
        {
            if (!double.IsFinite(input.Weight) || input.Weight <= 0)
                throw new ArgumentException($"weight of the adapter from {input.Source} is {input.Weight}; weights must be finite and positive", nameof(inputs));
            total += input.Weight;
        }
        return inputs.Select(i => i.Weight / total).ToArray();
    }

    private static LoraFactors StackModule(string module, IReadOnlyList<WeightedAdapter> inputs, double[] weights)
    {
        var first = inputs[0].Adapter.Modules.GetValueOrDefault(module);
        int inFeatures = first!.InFeatures, outFeatures = first.OutFeatures, totalRank = 0;
        foreach (var input in inputs)
        {
            if (!input.Adapter.Modules.TryGetValue(module, out var factors))
                throw new AdapterFormatException($"adapter from {input.Source} lacks module '{module}'");
            if (factors.InFeatures != inFeatures || factors.OutFeatures != outFeatures)
                throw new AdapterFormatException($"module '{module}' is {factors.OutFeatures}×{factors.InFeatures} in the adapter from {input.Source} but {outFeatures}×{inFeatures} in the adapter from {inputs[0].Source}");
            totalRank += factors.Rank;
        }

        var a = new Matrix(totalRank, inFeatures);
        var b = new Matrix(outFeatures, totalRank);
        int offset = 0;
        for (int k = 0; k < inputs.Count; k++)
        {
            var factors = inputs[k].Adapter[module];
            var coefficient = (float)(weights[k] * inputs[k].Adapter.Scale);
            for (int row = 0; row < factors.Rank; row++)
            {
                var source = factors.A.Row(row);
                var target = a.Row(offset + row);
                for (int j = 0; j < source.Length; j++)
                    target[j] = coefficient * source[j];
            }
            for (int row = 0; row < outFeatures; row++)
                factors.B.Row(row).CopyTo(b.Row(row).Slice(offset, factors.Rank));
            offset += factors.Rank;
        }
        return new LoraFactors(a, b);
    }
}
