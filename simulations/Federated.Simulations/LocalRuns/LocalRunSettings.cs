using Federated.Contracts.Jobs;
using Federated.Core.Aggregation;
using Federated.Core.Data;
using Federated.Core.Model;
using Federated.Core.Runtime;
using Federated.Core.Scheduling;

namespace Federated.Simulations.LocalRuns;

/// <summary>One local federated run: a server and N client daemons in this process, on the built-in task or a JSONL dataset.</summary>
public sealed record LocalRunSettings
{
    public int Clients { get; init; } = 3;

    public int Rounds { get; init; } = 6;

    /// <summary>LoRA ranks, handed to clients in turn.</summary>
    public IReadOnlyList<int> Ranks { get; init; } = [4, 8, 16];

    public int LocalSteps { get; init; } = 100;

    public int ExamplesPerClient { get; init; } = 600;

    public int EvaluationExamples { get; init; } = 300;

    /// <summary>Any model reference: builtin:tiny, a Hugging Face directory or a llama2.c file.</summary>
    public string BaseModel { get; init; } = BuiltinModels.Tiny;

    /// <summary>A JSONL file or folder (any supported format) split across the clients; null: the built-in task.</summary>
    public string? DataPath { get; init; }

    /// <summary>Held-out JSONL the server evaluates on; null: a held-out slice of <see cref="DataPath"/> (or the built-in test split).</summary>
    public string? EvaluationDataPath { get; init; }

    /// <summary>How <see cref="DataPath"/> is split across the clients.</summary>
    public PartitionScheme Partition { get; init; } = PartitionScheme.Iid;

    /// <summary>Dirichlet concentration for <see cref="PartitionScheme.Dirichlet"/> and <see cref="PartitionScheme.Quantity"/>.</summary>
    public double Alpha { get; init; } = 0.5;

    /// <summary>Tokens per training and evaluation sequence; null keeps the job default.</summary>
    public int? MaxSequenceLength { get; init; }

    public double LearningRate { get; init; } = 1e-2;

    public int BatchSize { get; init; } = 16;

    /// <summary>Micro-batches each batch is split into (gradients summed).</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>auto, f32, bf16 or fp16 (Federated.Core.Training.TrainingPrecisions).</summary>
    public string Precision { get; init; } = "auto";

    public bool GradientCheckpointing { get; init; }

    public ulong Seed { get; init; } = 1;

    /// <summary>How many of the clients (the last ones) join late: once <see cref="LateJoinRound"/> rounds are done.</summary>
    public int LateClients { get; init; }

    public int LateJoinRound { get; init; } = 1;

    /// <summary>Aggregation strategy (Federated.Core.Aggregation.AggregationStrategies).</summary>
    public string Strategy { get; init; } = AggregationStrategies.Stacking;

    public ComputeDevice Device { get; init; } = ComputeDevice.Auto;

    /// <summary>
    /// Scheduling policy (Federated.Contracts.Jobs.SchedulerConfig.Names). Synchronous rounds here, unlike a
    /// server's default (fedcompass): a local run's clients share one machine and one speed, so there is no
    /// straggler to schedule around, and rounds make the demo's figures comparable; `federated compare`
    /// shows the schedulers against each other on heterogeneous virtual clients.
    /// </summary>
    public string Scheduler { get; init; } = SchedulerConfig.Synchronous;

    /// <summary>FedCompass Q_min; null: a fifth of <see cref="LocalSteps"/> (the paper's 20 of 100).</summary>
    public int? MinSteps { get; init; }

    /// <summary>FedCompass Q_max; null: <see cref="LocalSteps"/>.</summary>
    public int? MaxSteps { get; init; }

    /// <summary>FedBuff K; null: half the clients.</summary>
    public int? BufferSize { get; init; }

    /// <summary>scheduler.weighting (Federated.Core.Scheduling.UpdateWeightings); null: the policy's default.</summary>
    public string? Weighting { get; init; }

    /// <summary>Folder for the server's data, each client's data and work folders, logs and results.</summary>
    public required string OutputDirectory { get; init; }

    public string JobId { get; init; } = "demo";

    /// <summary>Ports for the in-process server; 0 picks free ones.</summary>
    public int GrpcPort { get; init; }

    public int HttpPort { get; init; }

    public int SiloPort { get; init; }

    public IEnumerable<string> Validate()
    {
        if (Clients < 1)
            yield return $"--clients must be at least 1, got {Clients}";
        if (Rounds < 1)
            yield return $"--rounds must be at least 1, got {Rounds}";
        if (Ranks.Count == 0 || Ranks.Any(r => r < 1))
            yield return "--ranks must list positive ranks, e.g. 4,8,16";
        if (LocalSteps < 1)
            yield return $"--steps must be at least 1, got {LocalSteps}";
        if (ExamplesPerClient < 1)
            yield return $"--examples-per-client must be at least 1, got {ExamplesPerClient}";
        if (EvaluationExamples < 1)
            yield return $"--eval-examples must be at least 1, got {EvaluationExamples}";
        if (!(LearningRate > 0))
            yield return $"--learning-rate must be positive, got {LearningRate}";
        if (!AggregationStrategies.IsKnown(Strategy))
            yield return $"--strategy '{Strategy}' is not known; choose one of {string.Join(", ", AggregationStrategies.Names)}";
        else if (Strategy == AggregationStrategies.FedIt && Ranks.Take(Clients).Distinct().Count() > 1)
            yield return "--strategy fedit needs one rank for every client (give --ranks 8, say)";
        if (LateClients < 0 || LateClients >= Clients)
            yield return $"--late-clients must be between 0 and --clients − 1, got {LateClients}";
        if (LateClients > 0 && (LateJoinRound < 1 || LateJoinRound >= Rounds))
            yield return $"--late-join-round must be between 1 and --rounds − 1, got {LateJoinRound}";
        if (!SchedulerConfig.Names.Contains(Scheduler))
            yield return $"--scheduler '{Scheduler}' is not known; choose one of {string.Join(", ", SchedulerConfig.Names)}";
        if (MinSteps < 1 || MaxSteps < (MinSteps ?? 1))
            yield return $"--min-steps must be at least 1 and --max-steps at least --min-steps, got {MinSteps} and {MaxSteps}";
        if (BufferSize < 1)
            yield return $"--buffer-size must be at least 1, got {BufferSize}";
        if (Weighting is { } weighting && !UpdateWeightings.Names.Contains(weighting))
            yield return $"--weighting '{weighting}' is not known; choose {UpdateWeightings.Federation} or {UpdateWeightings.Batch}";
        else if (Weighting == UpdateWeightings.Federation && Scheduler == SchedulerConfig.Synchronous)
            yield return "--weighting federation applies to fedasync, fedbuff and fedcompass; synchronous rounds weigh by the round's samples";
        if (BatchSize < 1)
            yield return $"--batch-size must be at least 1, got {BatchSize}";
        if (!(Alpha > 0) || double.IsInfinity(Alpha))
            yield return $"--alpha must be a positive finite number, got {Alpha}";
        if (MaxSequenceLength is < 2)
            yield return $"--max-sequence-length must be at least 2, got {MaxSequenceLength}";
        if (DataPath is not null && !File.Exists(DataPath) && !Directory.Exists(DataPath))
            yield return $"--data: no such file or folder: {DataPath}";
        if (EvaluationDataPath is not null && !File.Exists(EvaluationDataPath) && !Directory.Exists(EvaluationDataPath))
            yield return $"--eval-data: no such file or folder: {EvaluationDataPath}";
        if (GradientAccumulationSteps < 1 || GradientAccumulationSteps > BatchSize)
            yield return $"--grad-accumulation must be between 1 and --batch-size ({BatchSize}), got {GradientAccumulationSteps}";
        if (Precision.ToLowerInvariant() is not ("auto" or "f32" or "bf16" or "fp16"))
            yield return $"--precision must be auto, f32, bf16 or fp16, got '{Precision}'";
    }
}
