using Federated.Contracts.Jobs;

namespace Federated.Contracts.Aggregation;

/// <summary>One stored client update and its aggregation weight (its number of samples).</summary>
[GenerateSerializer]
[Immutable]
public sealed record AggregationInput(
    [property: Id(0)] string ClientId,
    [property: Id(1)] string Sha256,
    [property: Id(2)] double Weight);

/// <summary>The stored stacked update of a round.</summary>
[GenerateSerializer]
[Immutable]
public sealed record AggregationResult(
    [property: Id(0)] string Sha256,
    [property: Id(1)] long SizeBytes,
    [property: Id(2)] int StackedRank,
    [property: Id(3)] double[] NormalisedWeights,
    [property: Id(4)] ClientViewRecord[] ClientViews);
