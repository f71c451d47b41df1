using Federated.Contracts.Jobs;

namespace Federated.Contracts.Scheduling;

/// <summary>A received, validated and stored update, handed to the scheduler to count.</summary>
[GenerateSerializer]
[Immutable]
public sealed record UpdateSubmission
{
    [Id(0)]
    public required string ClientId { get; init; }

    [Id(1)]
    public required string TaskId { get; init; }

    [Id(2)]
    public required int Round { get; init; }

    [Id(3)]
    public required string Sha256 { get; init; }

    [Id(4)]
    public required long SizeBytes { get; init; }

    [Id(5)]
    public required long NumSamples { get; init; }

    [Id(6)]
    public required UpdateStats Stats { get; init; }
}

/// <summary>What the scheduler made of a submission.</summary>
[GenerateSerializer]
[Immutable]
public sealed record SubmissionReceipt(
    [property: Id(0)] string Sha256,
    [property: Id(1)] bool Duplicate,
    [property: Id(2)] string Message);
