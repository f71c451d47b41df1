namespace Federated.Core.Aggregation;

/// <summary>Aggregation weights p_k = w_k / Σ w.</summary>
public static class AggregationWeights
{
    /// <summary>p_k for each input; every weight must be finite and positive.</summary>
    public static double[] Normalise(IReadOnlyList<WeightedAdapter> inputs)
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
}
