namespace Federated.Core.Aggregation;

/// <summary>Aggregation weights p_k = w_k / Σ w.</summary>
public static class AggregationWeights
{
    /// <summary>p_k for each input; every weight must be finite and positive.</summary>
    public static double[] Normalise(IReadOnlyList<WeightedAdapter> inputs)
        => Normalise(inputs.Select(i => (i.Weight, i.Source)).ToList());

    /// <summary>p_k for each (weight, source); a weight that is not finite and positive is refused naming its source.</summary>
    public static double[] Normalise(IReadOnlyList<(double Weight, string Source)> inputs)
    {
        double total = 0;
        foreach (var (weight, source) in inputs)
        {
            if (!double.IsFinite(weight) || weight <= 0)
                throw new ArgumentException($"weight of the adapter from {source} is {weight}; weights must be finite and positive", nameof(inputs));
            total += weight;
        }
        return inputs.Select(i => i.Weight / total).ToArray();
    }
}
