using Federated.Core.Adapters;

namespace Federated.Core.Aggregation;

/// <summary>
/// What a strategy makes of one aggregation: the global update merged into the global model, and, for
/// strategies that hand clients a rank-limited version of it (zero-padding, FlexLoRA), the update a
/// client of each rank merges instead. A rank without a view gets <see cref="Global"/>.
/// </summary>
public sealed record AggregationOutcome(LoraAdapter Global, IReadOnlyDictionary<int, LoraAdapter> ClientViews)
{
    public static AggregationOutcome Exact(LoraAdapter global) => new(global, new Dictionary<int, LoraAdapter>());

    /// <summary>
    /// The same outcome multiplied by <paramref name="factor"/>: strategies mix with weights normalised to sum
    /// to 1, so a scheduler that applies absolute weights w_k (FedAsync's α·S(staleness), say) aggregates with
    /// w_k and then scales by Σ w_k.
    /// </summary>
    public AggregationOutcome Scaled(double factor)
    {
        if (!double.IsFinite(factor) || factor <= 0)
            throw new ArgumentException($"an aggregation can only be scaled by a positive finite factor, got {factor}", nameof(factor));
        static LoraAdapter Scale(LoraAdapter adapter, double factor) => new(adapter.ModuleNames.Select(m => new KeyValuePair<string, LoraFactors>(m, adapter[m])), adapter.Scale * factor);
        return new AggregationOutcome(Scale(Global, factor), ClientViews.ToDictionary(v => v.Key, v => Scale(v.Value, factor)));
    }

    /// <summary>The update a client training at <paramref name="rank"/> merges.</summary>
    public LoraAdapter For(int rank) => ClientViews.TryGetValue(rank, out var view) ? view : Global;
}
