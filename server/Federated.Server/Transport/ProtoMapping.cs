using Federated.Contracts.Clients;
using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;
using Federated.Core.Aggregation;
using Federated.Core.Model;
using Federated.Protos.V1;
using Google.Protobuf.WellKnownTypes;

namespace Federated.Server.Transport;

/// <summary>Translations between wire messages and the cluster's records; defaults of job specs live here.</summary>
public static class ProtoMapping
{
    public const int DefaultRank = 8;
    public const int DefaultLocalSteps = 50;
    public static readonly TimeSpan DefaultTaskTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The device profile of an enrolment, refused (naming the field) unless every value is in bounds.</summary>
    public static ClientProfile ToProfile(EnrolRequest request)
    {
        var profile = new ClientProfile
        {
            Device = request.Device?.Kind == DeviceKind.Cuda ? "cuda" : "cpu",
            CpuCores = request.Device?.CpuCores ?? 0,
            MemoryBytes = request.Device?.MemoryBytes ?? 0,
            AcceleratorName = request.Device?.AcceleratorName ?? "",
            AcceleratorMemoryBytes = request.Device?.AcceleratorMemoryBytes ?? 0,
            MeasuredGflops = request.Device?.MeasuredGflops ?? 0,
            ClientVersion = request.ClientVersion,
            Labels = new Dictionary<string, string>(request.Labels),
        };
        ClientInputLimits.CheckProfile(profile);
        return profile;
    }

    public static ClientActivityKind ToActivity(ClientActivity activity) => activity switch
    {
        ClientActivity.Downloading => ClientActivityKind.Downloading,
        ClientActivity.Training => ClientActivityKind.Training,
        ClientActivity.Uploading => ClientActivityKind.Uploading,
        _ => ClientActivityKind.Idle,
    };

    public static UpdateStats ToStats(TrainingStats? stats) => stats is null ? new UpdateStats() : new UpdateStats
    {
        Steps = stats.Steps,
        FirstLoss = stats.FirstLoss,
        MeanLoss = stats.MeanLoss,
        FinalLoss = stats.FinalLoss,
        ComputeSeconds = stats.ComputeSeconds,
        SecondsPerStep = stats.SecondsPerStep,
        Tokens = stats.Tokens,
        DownloadSeconds = stats.DownloadSeconds,
    };

    public static TrainingTask ToTask(TaskAssignment task)
    {
        var message = new TrainingTask
        {
            TaskId = task.TaskId,
            JobId = task.JobId,
            Round = task.Round,
            BaseModel = new Protos.V1.BaseModel { Reference = task.BaseModel, Fingerprint = task.BaseModelFingerprint },
            Lora = new LoraConfig { Rank = task.Rank, Alpha = task.Alpha },
            LocalSteps = task.LocalSteps,
            Hyperparameters = ToProto(task.Hyperparameters),
            Deadline = Timestamp.FromDateTimeOffset(task.Deadline),
        };
        message.TargetModules.AddRange(task.TargetModules);
        message.GlobalUpdates.AddRange(task.GlobalUpdates.Select(u => new AdapterRef { Round = u.Round, Sha256 = u.Sha256, SizeBytes = u.SizeBytes, Rank = u.Rank }));
        return message;
    }

    public static Protos.V1.Hyperparameters ToProto(TrainingHyperparameters h) => new()
    {
        LearningRate = h.LearningRate,
        BatchSize = h.BatchSize,
        WeightDecay = h.WeightDecay,
        WarmupSteps = h.WarmupSteps,
        MaxGradNorm = h.MaxGradNorm,
        MaxSequenceLength = h.MaxSequenceLength,
        Seed = h.Seed,
        GradientAccumulationSteps = h.GradientAccumulationSteps,
        Precision = h.Precision,
        GradientCheckpointing = h.GradientCheckpointing,
        GroupByLength = h.GroupByLength,
    };

    public static TrainingHyperparameters ToHyperparameters(Protos.V1.Hyperparameters? h)
    {
        var defaults = new TrainingHyperparameters();
        if (h is null)
            return defaults;
        return new TrainingHyperparameters
        {
            LearningRate = h.HasLearningRate ? h.LearningRate : defaults.LearningRate,
            BatchSize = h.HasBatchSize ? h.BatchSize : defaults.BatchSize,
            WeightDecay = h.HasWeightDecay ? h.WeightDecay : defaults.WeightDecay,
            WarmupSteps = h.HasWarmupSteps ? h.WarmupSteps : defaults.WarmupSteps,
            MaxGradNorm = h.HasMaxGradNorm ? h.MaxGradNorm : defaults.MaxGradNorm,
            MaxSequenceLength = h.HasMaxSequenceLength ? h.MaxSequenceLength : defaults.MaxSequenceLength,
            Seed = h.HasSeed ? h.Seed : defaults.Seed,
            GradientAccumulationSteps = h.HasGradientAccumulationSteps ? h.GradientAccumulationSteps : defaults.GradientAccumulationSteps,
            Precision = h.HasPrecision ? h.Precision : defaults.Precision,
            GradientCheckpointing = h.HasGradientCheckpointing ? h.GradientCheckpointing : defaults.GradientCheckpointing,
            GroupByLength = h.HasGroupByLength ? h.GroupByLength : defaults.GroupByLength,
        };
    }

    /// <summary>A job spec with the server's defaults filled in; validation happens in the job grain.</summary>
    public static JobConfig ToConfig(JobSpec spec)
    {
        var min = spec.HasMinClientsPerRound ? spec.MinClientsPerRound : 1;
        return new JobConfig
        {
            BaseModel = spec.BaseModel,
            TargetModules = spec.TargetModules.Count > 0 ? [.. spec.TargetModules] : [.. TargetModules.All],
            Ranks = spec.Ranks.Count > 0 ? [.. spec.Ranks] : [DefaultRank],
            ClientRanks = new Dictionary<string, int>(spec.ClientRanks),
            LoraAlphaPerRank = spec.HasLoraAlphaPerRank ? spec.LoraAlphaPerRank : 2.0,
            Rounds = spec.Rounds,
            MinClientsPerRound = min,
            ClientsPerRound = spec.HasClientsPerRound ? spec.ClientsPerRound : min,
            LocalSteps = spec.HasLocalSteps ? spec.LocalSteps : DefaultLocalSteps,
            Hyperparameters = ToHyperparameters(spec.Hyperparameters),
            EvaluationDataset = string.IsNullOrWhiteSpace(spec.EvaluationDataset) ? null : spec.EvaluationDataset,
            TaskTimeout = spec.HasTaskTimeoutSeconds ? TimeSpan.FromSeconds(spec.TaskTimeoutSeconds) : DefaultTaskTimeout,
            AggregationStrategy = string.IsNullOrWhiteSpace(spec.AggregationStrategy) ? AggregationStrategies.Stacking : spec.AggregationStrategy,
            ClientWeights = new Dictionary<string, double>(spec.ClientWeights),
            CompactionRankBudget = spec.HasCompactionRankBudget ? spec.CompactionRankBudget : 0,
            Scheduler = ToScheduler(spec.Scheduler),
        };
    }

    /// <summary>The scheduler of a new job: fedcompass unless the spec names another, defaults for what it leaves out.</summary>
    public static SchedulerConfig ToScheduler(SchedulerSpec? s)
    {
        var d = new SchedulerConfig();
        if (s is null)
            return d;
        return new SchedulerConfig
        {
            Policy = string.IsNullOrWhiteSpace(s.Policy) ? d.Policy : s.Policy.Trim().ToLowerInvariant(),
            MinSteps = s.HasMinSteps ? s.MinSteps : d.MinSteps,
            MaxSteps = s.HasMaxSteps ? s.MaxSteps : d.MaxSteps,
            LatestFactor = s.HasLatestFactor ? s.LatestFactor : d.LatestFactor,
            StalenessAlpha = s.HasStalenessAlpha ? s.StalenessAlpha : d.StalenessAlpha,
            StalenessExponent = s.HasStalenessExponent ? s.StalenessExponent : d.StalenessExponent,
            BufferSize = s.HasBufferSize ? s.BufferSize : d.BufferSize,
            MaxMissedDeadlines = s.HasMaxMissedDeadlines ? s.MaxMissedDeadlines : d.MaxMissedDeadlines,
            SpeedMomentum = s.HasSpeedMomentum ? s.SpeedMomentum : d.SpeedMomentum,
            RankTiers = s.RankTiers.Select(t => new RankTierConfig(t.Rank, t.MinMemoryGib, t.HasMaxSecondsPerStep ? t.MaxSecondsPerStep : null)).ToArray(),
            Weighting = s.HasWeighting ? s.Weighting.Trim().ToLowerInvariant() : d.Weighting,
        };
    }

    public static SchedulerSpec ToProto(SchedulerConfig? config)
    {
        var c = config ?? new SchedulerConfig { Policy = SchedulerConfig.Synchronous };
        var spec = new SchedulerSpec
        {
            Policy = c.Policy,
            MinSteps = c.MinSteps,
            MaxSteps = c.MaxSteps,
            LatestFactor = c.LatestFactor,
            StalenessAlpha = c.StalenessAlpha,
            StalenessExponent = c.StalenessExponent,
            BufferSize = c.BufferSize,
            MaxMissedDeadlines = c.MaxMissedDeadlines,
            SpeedMomentum = c.SpeedMomentum,
        };
        if (c.Weighting.Length > 0)
            spec.Weighting = c.Weighting;
        foreach (var tier in c.RankTiers)
        {
            var proto = new RankTier { Rank = tier.Rank, MinMemoryGib = tier.MinMemoryGiB };
            if (tier.MaxSecondsPerStep is { } max)
                proto.MaxSecondsPerStep = max;
            spec.RankTiers.Add(proto);
        }
        return spec;
    }

    public static JobSpec ToSpec(string jobId, JobConfig config)
    {
        var spec = new JobSpec
        {
            JobId = jobId,
            BaseModel = config.BaseModel,
            LoraAlphaPerRank = config.LoraAlphaPerRank,
            Rounds = config.Rounds,
            MinClientsPerRound = config.MinClientsPerRound,
            ClientsPerRound = config.ClientsPerRound,
            LocalSteps = config.LocalSteps,
            Hyperparameters = ToProto(config.Hyperparameters),
            EvaluationDataset = config.EvaluationDataset ?? "",
            TaskTimeoutSeconds = (int)config.TaskTimeout.TotalSeconds,
            AggregationStrategy = config.AggregationStrategy,
            CompactionRankBudget = config.CompactionRankBudget,
            Scheduler = ToProto(config.Scheduler),
        };
        spec.ClientWeights.Add(config.ClientWeights);
        spec.TargetModules.AddRange(config.TargetModules);
        spec.Ranks.AddRange(config.Ranks);
        spec.ClientRanks.Add(config.ClientRanks);
        return spec;
    }

    public static ClientStatus ToStatus(Contracts.Clients.ClientSnapshot client) => new()
    {
        ClientId = client.ClientId,
        Admission = client.Admission.ToString().ToLowerInvariant(),
        Activity = client.Activity.ToString().ToLowerInvariant(),
        EnrolledAt = Timestamp.FromDateTimeOffset(client.EnrolledAt),
        LastSeen = Timestamp.FromDateTimeOffset(client.LastSeen),
        TasksCompleted = client.TasksCompleted,
        TasksExpired = client.TasksExpired,
        CurrentTaskId = client.CurrentTaskId ?? "",
    };

    public static JobStatus ToStatus(JobSnapshot job)
    {
        var status = new JobStatus
        {
            JobId = job.JobId,
            State = job.Status switch
            {
                JobStatusKind.Completed => JobState.Completed,
                JobStatusKind.Failed or JobStatusKind.Stopped => JobState.Failed,
                _ => JobState.Running, // paused jobs are still running as far as the wire is concerned
            },
            Spec = ToSpec(job.JobId, job.Config),
            CompletedRounds = job.CompletedRounds,
            Baseline = ToMetrics(job.Baseline),
            Error = job.Error ?? (job.Status == JobStatusKind.Stopped ? "stopped by an operator" : ""),
            EvaluationError = job.EvaluationError ?? "",
            CreatedAt = Timestamp.FromDateTimeOffset(job.CreatedAt),
            Version = job.ChangeCount, // the wire keeps its name
            Status = job.Status.ToString().ToLowerInvariant(),
        };
        status.Rounds.AddRange(job.History.Select(ToSummary));
        return status;
    }

    private static RoundSummary ToSummary(RoundRecord round)
    {
        var summary = new RoundSummary
        {
            Round = round.Round,
            GlobalUpdateSha256 = round.UpdateSha256,
            GlobalUpdateBytes = round.UpdateBytes,
            StackedRank = round.StackedRank,
            Evaluation = ToMetrics(round.Evaluation),
            StartedAt = Timestamp.FromDateTimeOffset(round.StartedAt),
            CompletedAt = Timestamp.FromDateTimeOffset(round.CompletedAt),
        };
        summary.ClientViews.AddRange(round.ClientViews.Select(v => new ClientView { Rank = v.Rank, Sha256 = v.Sha256, SizeBytes = v.SizeBytes }));
        summary.Participants.AddRange(round.Participants.Select(p => new Participant
        {
            ClientId = p.ClientId,
            Rank = p.Rank,
            NumSamples = p.NumSamples,
            Weight = p.Weight,
            TrainLoss = p.Stats.FinalLoss,
            SecondsPerStep = p.Stats.SecondsPerStep,
            UpdateSha256 = p.UpdateSha256,
            Staleness = p.Staleness,
            Steps = p.Steps,
        }));
        return summary;
    }

    private static EvaluationMetrics? ToMetrics(EvaluationSummary? metrics) => metrics is null ? null : new EvaluationMetrics
    {
        Loss = metrics.Loss,
        TokenAccuracy = metrics.TokenAccuracy,
        ExactMatch = metrics.ExactMatch,
        Examples = metrics.Examples,
    };
}
