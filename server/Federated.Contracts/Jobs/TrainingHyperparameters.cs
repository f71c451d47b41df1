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

    /// <summary>Micro-batches each batch is split into (gradients summed); bounds memory, not the result.</summary>
    [Id(7)]
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>auto, f32, bf16 or fp16; bf16/fp16 need a CUDA client, auto is bf16 there and f32 on CPU.</summary>
    [Id(8)]
    public string Precision { get; init; } = "auto";

    [Id(9)]
    public bool GradientCheckpointing { get; init; }

    [Id(10)]
    public bool GroupByLength { get; init; }
}
