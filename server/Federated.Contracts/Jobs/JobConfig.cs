namespace Federated.Contracts.Jobs;

/// <summary>What a job trains and how: fixed when the job is created.</summary>
[GenerateSerializer]
[Immutable]
public sealed record JobConfig
{
    /// <summary>Base model reference, e.g. builtin:tiny.</summary>
    [Id(0)]
    public required string BaseModel { get; init; }

    /// <summary>SHA-256 over the base weights, filled in by the server when the job is created.</summary>
    [Id(1)]
    public string BaseModelFingerprint { get; init; } = "";

    [Id(2)]
    public required string[] TargetModules { get; init; }

    /// <summary>Ranks handed to clients in the order they first join, cycling.</summary>
    [Id(3)]
    public required int[] Ranks { get; init; }

    /// <summary>Ranks of named clients, overriding <see cref="Ranks"/>.</summary>
    [Id(4)]
    public Dictionary<string, int> ClientRanks { get; init; } = [];

    /// <summary>alpha = this × rank, so every client's LoRA scaling alpha / rank is the same.</summary>
    [Id(5)]
    public double LoraAlphaPerRank { get; init; } = 2.0;

    [Id(6)]
    public required int Rounds { get; init; }

    [Id(7)]
    public required int MinClientsPerRound { get; init; }

    /// <summary>Most clients given a task in one round.</summary>
    [Id(8)]
    public required int ClientsPerRound { get; init; }

    [Id(9)]
    public required int LocalSteps { get; init; }

    [Id(10)]
    public TrainingHyperparameters Hyperparameters { get; init; } = new();

    /// <summary>Held-out data for server-side evaluation after every round; null for none.</summary>
    [Id(11)]
    public string? EvaluationDataset { get; init; }

    /// <summary>A task not returned within this time goes to another client.</summary>
    [Id(12)]
    public TimeSpan TaskTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How updates are combined (Federated.Core.Aggregation.AggregationStrategies): stacking by default.</summary>
    [Id(13)]
    public string AggregationStrategy { get; init; } = "stacking";

    /// <summary>Aggregation weights of named clients, replacing their sample counts.</summary>
    [Id(14)]
    public Dictionary<string, double> ClientWeights { get; init; } = [];

    /// <summary>Most rank per module a compacted catch-up update keeps; 0 keeps it exact.</summary>
    [Id(15)]
    public int CompactionRankBudget { get; init; }

    /// <summary>How tasks are handed out and when updates are applied; null (jobs created before schedulers
    /// were chosen per job) runs synchronous rounds. New jobs default to fedcompass.</summary>
    [Id(16)]
    public SchedulerConfig? Scheduler { get; init; }
}
