namespace Federated.Contracts.Scheduling;

/// <summary>A stored global update: the stacked adapter of one round, by content hash.</summary>
[GenerateSerializer]
[Immutable]
public sealed record GlobalUpdateRef(
    [property: Id(0)] int Round,
    [property: Id(1)] string Sha256,
    [property: Id(2)] long SizeBytes,
    [property: Id(3)] int Rank);
