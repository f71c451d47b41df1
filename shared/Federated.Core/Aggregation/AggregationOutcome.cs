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

    /// <summary>The update a client training at <paramref name="rank"/> merges.</summary>
    public LoraAdapter For(int rank) => ClientViews.TryGetValue(rank, out var view) ? view : Global;
}
