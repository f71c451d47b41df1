namespace Federated.Contracts.Jobs;

/// <summary>Local training hyper-parameters a job hands to every task.</summary>
[GenerateSerializer]
[Immutable]
public sealed record TrainingHyperparameters
{
    [Id(0)]
    public double LearningRate { get; init; } = 1e-2;

    [Id(1)]
    public int BatchSize { get; init; } = 16;

    [Id(2)]
    public double WeightDecay { get; init; }

    [Id(3)]
    public int WarmupSteps { get; init; } = 5;

    [Id(4)]
    public double MaxGradNorm { get; init; } = 1.0;

    [Id(5)]
    public int MaxSequenceLength { get; init; } = 64;

    [Id(6)]
    public ulong Seed { get; init; } = 1;
}
