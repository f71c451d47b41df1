using Federated.Contracts;
using Federated.Contracts.Errors;
using Federated.Contracts.Jobs;
using Federated.Core.Aggregation;
using Federated.Core.Data;
using Federated.Core.Model;
using Federated.Core.Scheduling;
using Federated.Core.Training;
using Federated.Server.Models;
using Federated.Server.Scheduling;

namespace Federated.Server.Jobs;

/// <summary>Checks a job configuration before the job starts; every refusal names the field at fault.</summary>
public static class JobConfigValidator
{
    public const int MaxRounds = 100_000;
    public const int MaxClientsPerRound = 100_000;

    // Operator input is bounded too: each of these once took the server (or every client) down when set to int.MaxValue.
    public const int MaxLocalSteps = SchedulerOptions.MaxLocalSteps;
    public const int MaxBatchSize = 65_536;
    public const int MaxWarmupSteps = MaxLocalSteps;
    public const int MaxGradientAccumulationSteps = MaxBatchSize;
    public const int MaxTaskTimeoutSeconds = 7 * 24 * 3600;
    public const int MaxRankBudget = 65_536;
    public const int MaxRanks = 64;

    public static void Validate(JobConfig config, BaseModelRegistry models, EvaluationSources sources)
    {
        if (string.IsNullOrWhiteSpace(config.BaseModel))
            throw Invalid("base_model", "is required");
        var model = models.Describe(config.BaseModel);

        IReadOnlyList<string> targets;
        try
        {
            targets = TargetModules.Validate(config.TargetModules);
        }
        catch (ArgumentException e)
        {
            throw Invalid("target_modules", e.Message);
        }
        var maxRank = targets.Select(model.LinearShape).Min(s => Math.Min(s.In, s.Out));

        if (config.Ranks.Length is 0 or > MaxRanks)
            throw Invalid("ranks", $"needs 1 to {MaxRanks} ranks, got {config.Ranks.Length}");
        foreach (var rank in config.Ranks)
            CheckRank(rank, maxRank, "ranks");
        foreach (var (client, rank) in config.ClientRanks)
        {
            if (!Identifiers.IsValid(client))
                throw Invalid("client_ranks", $"'{client}' is not a valid client id");
            CheckRank(rank, maxRank, $"client_ranks[{client}]");
        }
        if (!(config.LoraAlphaPerRank > 0) || !double.IsFinite(config.LoraAlphaPerRank))
            throw Invalid("lora_alpha_per_rank", $"must be positive, got {config.LoraAlphaPerRank}");
        if (config.Rounds is < 1 or > MaxRounds)
            throw Invalid("rounds", $"must be between 1 and {MaxRounds}, got {config.Rounds}");
        if (config.MinClientsPerRound is < 1 or > MaxClientsPerRound)
            throw Invalid("min_clients_per_round", $"must be between 1 and {MaxClientsPerRound}, got {config.MinClientsPerRound}");
        if (config.ClientsPerRound < config.MinClientsPerRound || config.ClientsPerRound > MaxClientsPerRound)
            throw Invalid("clients_per_round", $"must be between min_clients_per_round ({config.MinClientsPerRound}) and {MaxClientsPerRound}, got {config.ClientsPerRound}");
        if (config.LocalSteps is < 1 or > MaxLocalSteps)
            throw Invalid("local_steps", $"must be between 1 and {MaxLocalSteps}, got {config.LocalSteps}");
        if (config.ClientRanks.Count > MaxClientsPerRound)
            throw Invalid("client_ranks", $"at most {MaxClientsPerRound} entries, got {config.ClientRanks.Count}");
        if (config.ClientWeights.Count > MaxClientsPerRound)
            throw Invalid("client_weights", $"at most {MaxClientsPerRound} entries, got {config.ClientWeights.Count}");
        if (!AggregationStrategies.IsKnown(config.AggregationStrategy))
            throw Invalid("aggregation_strategy", $"'{Excerpt.Of(config.AggregationStrategy)}' is not known; choose one of {string.Join(", ", AggregationStrategies.Names)}");
        if (config.AggregationStrategy == AggregationStrategies.FedIt && config.Ranks.Concat(config.ClientRanks.Values).Distinct().Count() > 1)
            throw Invalid("aggregation_strategy", "fedit averages A and B separately and needs one rank for every client; use stacking (or zero-padding, flexlora) for mixed ranks");
        foreach (var (client, weight) in config.ClientWeights)
        {
            if (!Identifiers.IsValid(client))
                throw Invalid("client_weights", $"'{client}' is not a valid client id");
            if (!(weight > 0) || !double.IsFinite(weight))
                throw Invalid($"client_weights[{client}]", $"must be positive and finite, got {weight}");
        }
        if (config.CompactionRankBudget < 0)
            throw Invalid("compaction_rank_budget", $"must be 0 (exact) or positive, got {config.CompactionRankBudget}");
        if (config.CompactionRankBudget > MaxRankBudget)
            throw Invalid("compaction_rank_budget", $"must be at most {MaxRankBudget}, got {config.CompactionRankBudget}");
        if (config.TaskTimeout < TimeSpan.FromSeconds(1) || config.TaskTimeout > TimeSpan.FromSeconds(MaxTaskTimeoutSeconds))
            throw Invalid("task_timeout_seconds", $"must be between 1 and {MaxTaskTimeoutSeconds} seconds, got {config.TaskTimeout.TotalSeconds}");

        if (config.Scheduler is { } scheduler)
        {
            if (!SchedulerConfig.Names.Contains(scheduler.Policy))
                throw Invalid("scheduler.policy", $"'{Excerpt.Of(scheduler.Policy)}' is not known; choose one of {string.Join(", ", SchedulerConfig.Names)}");
            for (var i = 0; i < scheduler.RankTiers.Length; i++)
                CheckRank(scheduler.RankTiers[i].Rank, maxRank, $"scheduler.rank_tiers[{i}].rank");
        }
        if (SchedulerPolicies.Violations(config).FirstOrDefault() is ({ } field, { } message))
            throw Invalid(field, message); // the policies' own rules, in the job's field names

        var h = config.Hyperparameters;
        if (h.BatchSize is < 1 or > MaxBatchSize)
            throw Invalid("hyperparameters.batch_size", $"must be between 1 and {MaxBatchSize}, got {h.BatchSize}");
        if (h.WarmupSteps is < 0 or > MaxWarmupSteps)
            throw Invalid("hyperparameters.warmup_steps", $"must be between 0 and {MaxWarmupSteps}, got {h.WarmupSteps}");
        if (!double.IsFinite(h.LearningRate) || !double.IsFinite(h.WeightDecay) || !double.IsFinite(h.MaxGradNorm))
            throw Invalid("hyperparameters", $"learning_rate, weight_decay and max_grad_norm must be finite numbers, got {h.LearningRate}, {h.WeightDecay}, {h.MaxGradNorm}");
        if (h.GradientAccumulationSteps < 1 || h.GradientAccumulationSteps > h.BatchSize)
            throw Invalid("hyperparameters.gradient_accumulation_steps", $"must be between 1 and batch_size ({h.BatchSize}), got {h.GradientAccumulationSteps}");
        TrainingOptions options;
        try
        {
            options = ToTrainingOptions(h, config.LocalSteps);
        }
        catch (ArgumentException e)
        {
            throw Invalid("hyperparameters.precision", e.Message);
        }
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw Invalid("hyperparameters", e.Message);
        }
        if (options.MaxSequenceLength > model.MaxPositionEmbeddings)
            throw Invalid("hyperparameters.max_sequence_length", $"{options.MaxSequenceLength} exceeds the base model's {model.MaxPositionEmbeddings} positions");

        if (config.EvaluationDataset is { Length: > 0 } dataset)
        {
            try
            {
                models.TextFormat(config.BaseModel).TokenizeAll(sources.Load(dataset), options.MaxSequenceLength);
            }
            catch (Exception e) when (e is DataFormatException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                throw Invalid("evaluation_dataset", e.Message);
            }
        }
    }

    public static TrainingOptions ToTrainingOptions(TrainingHyperparameters h, int steps) => new()
    {
        Steps = steps,
        BatchSize = h.BatchSize,
        LearningRate = h.LearningRate,
        WeightDecay = h.WeightDecay,
        WarmupSteps = h.WarmupSteps,
        MaxGradNorm = h.MaxGradNorm,
        MaxSequenceLength = h.MaxSequenceLength,
        Seed = h.Seed,
        GradientAccumulationSteps = h.GradientAccumulationSteps,
        Precision = TrainingPrecisions.Parse(h.Precision, "precision"),
        GradientCheckpointing = h.GradientCheckpointing,
        GroupByLength = h.GroupByLength,
    };

    private static void CheckRank(int rank, int maxRank, string field)
    {
        if (rank < 1 || rank > maxRank)
            throw Invalid(field, $"rank {rank} is outside 1..{maxRank} (the smallest target layer's width)");
    }

    private static FederatedException Invalid(string field, string message) => FederatedException.Invalid($"{field}: {message}");
}
