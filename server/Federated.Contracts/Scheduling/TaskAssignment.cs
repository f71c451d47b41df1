using Federated.Contracts.Jobs;

namespace Federated.Contracts.Scheduling;

/// <summary>A task handed to a client: train LoRA of this rank for this many steps from this global model.</summary>
[GenerateSerializer]
[Immutable]
public sealed record TaskAssignment
{
    [Id(0)]
    public required string TaskId { get; init; }

    [Id(1)]
    public required string JobId { get; init; }

    [Id(2)]
    public required int Round { get; init; }

    [Id(3)]
    public required string ClientId { get; init; }

    [Id(4)]
    public required int Rank { get; init; }

    [Id(5)]
    public required double Alpha { get; init; }

    [Id(6)]
    public required int LocalSteps { get; init; }

    [Id(7)]
    public required DateTimeOffset IssuedAt { get; init; }

    [Id(8)]
    public required DateTimeOffset Deadline { get; init; }

    [Id(9)]
    public required string BaseModel { get; init; }

    [Id(10)]
    public required string BaseModelFingerprint { get; init; }

    [Id(11)]
    public required string[] TargetModules { get; init; }

    [Id(12)]
    public required TrainingHyperparameters Hyperparameters { get; init; }

    /// <summary>The global model: the base plus these updates, oldest first.</summary>
    [Id(13)]
    public required GlobalUpdateRef[] GlobalUpdates { get; init; }
}
