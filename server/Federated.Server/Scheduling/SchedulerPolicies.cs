using System.Text.Json;
using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;
using Federated.Core.Scheduling;
using Federated.Core.Scheduling.Ledger;

namespace Federated.Server.Scheduling;

/// <summary>Turns a job's configuration into its scheduling policy and task ledger, and persists policy state as JSON.</summary>
public static class SchedulerPolicies
{
    private static readonly JsonSerializerOptions Json = new();

    /// <summary>The policy options of <paramref name="config"/>; throws <see cref="ArgumentException"/> for an unknown policy or weighting.</summary>
    public static SchedulerOptions OptionsFor(JobConfig config)
    {
        var s = config.Scheduler ?? new SchedulerConfig { Policy = SchedulerConfig.Synchronous };
        SchedulerOptions options = s.Policy switch
        {
            SchedulerConfig.Synchronous => new SynchronousOptions
            {
                SpeedMomentum = s.SpeedMomentum,
                ClientsPerRound = config.ClientsPerRound,
                MinQuorum = config.MinClientsPerRound,
                LocalSteps = config.LocalSteps,
                RoundDeadlineSeconds = config.TaskTimeout.TotalSeconds,
            },
            SchedulerConfig.FedAsync => new FedAsyncOptions
            {
                SpeedMomentum = s.SpeedMomentum,
                LocalSteps = config.LocalSteps,
                Alpha = s.StalenessAlpha,
                StalenessExponent = s.StalenessExponent,
            },
            SchedulerConfig.FedBuff => new FedBuffOptions
            {
                SpeedMomentum = s.SpeedMomentum,
                LocalSteps = config.LocalSteps,
                BufferSize = s.BufferSize,
                Alpha = s.StalenessAlpha,
                StalenessExponent = s.StalenessExponent,
            },
            SchedulerConfig.FedCompass => new FedCompassOptions
            {
                SpeedMomentum = s.SpeedMomentum,
                MinSteps = s.MinSteps,
                MaxSteps = s.MaxSteps,
                Latest = s.LatestFactor,
                Alpha = s.StalenessAlpha,
                StalenessExponent = s.StalenessExponent,
                MaxMissedDeadlines = s.MaxMissedDeadlines,
            },
            _ => throw new ArgumentException($"'{s.Policy}' is not known; choose one of {string.Join(", ", SchedulerConfig.Names)}"),
        };
        options = options with { ClientWeights = config.ClientWeights };
        if (s.Weighting.Length > 0)
            options = options with { Weighting = UpdateWeightings.Parse(s.Weighting) }; // synchronous refuses federation in Validate
        return s.RankTiers.Length == 0 ? options : options with { Ranks = RankRuleOf(s, config) };
    }

    /// <summary>The job's rank tiers as the policy's rule; a client meeting none takes the job's first rank.</summary>
    public static RankRule RankRuleOf(SchedulerConfig scheduler, JobConfig config)
        => new(scheduler.RankTiers.Select(t => new RankTier(t.Rank, t.MinMemoryGiB, t.MaxSecondsPerStep)).ToList(), config.Ranks.Length > 0 ? config.Ranks[0] : 8);

    /// <summary>The ledger's part of a job's configuration; the policy's clock counts from the job's creation.</summary>
    public static LedgerOptions LedgerOptionsFor(JobSnapshot job) => new()
    {
        JobId = job.JobId,
        Origin = job.CreatedAt,
        Ranks = job.Config.Ranks,
        ClientRanks = job.Config.ClientRanks,
        LoraAlphaPerRank = job.Config.LoraAlphaPerRank,
        TaskTimeout = job.Config.TaskTimeout,
    };

    /// <summary>The job's ledger over its saved scheduler state (a fresh policy when none was saved).</summary>
    public static TaskLedger<UpdateSubmission> Restore(JobSnapshot job, SchedulerState state, TimeProvider time)
    {
        var saved = Deserialise(state.PolicyState, job.JobId);
        var policy = OptionsFor(job.Config).CreatePolicy(saved);
        if (saved is null)
            policy.State.Version = job.CompletedRounds; // a job whose earlier rounds ran before its policy was kept
        foreach (var task in state.Issued.Values.Where(t => t.UpdateSha256 is null && t.Update is not null))
        {
            task.UpdateSha256 = task.Update!.Sha256; // saved before the ledger kept these apart
            task.Samples = task.Update.NumSamples;
        }
        return new TaskLedger<UpdateSubmission>(LedgerOptionsFor(job), policy, state, time, job.CompletedRounds);
    }

    public static string Serialise(SchedulingState state) => JsonSerializer.Serialize(state, Json);

    /// <summary>The saved state, or null for none; a damaged one fails naming the job.</summary>
    public static SchedulingState? Deserialise(string json, string jobId)
    {
        if (string.IsNullOrEmpty(json))
            return null;
        try
        {
            return JsonSerializer.Deserialize<SchedulingState>(json, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"job '{jobId}': the saved scheduler state is not valid: {e.Message}", e);
        }
    }
}
