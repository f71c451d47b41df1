using System.Text.Json;
using Federated.Contracts.Jobs;
using Federated.Core.Scheduling;

namespace Federated.Server.Scheduling;

/// <summary>Turns a job's configuration into the scheduling policy's options, and persists policy state as JSON.</summary>
public static class SchedulerPolicies
{
    private static readonly JsonSerializerOptions Json = new();

    /// <summary>The policy options of <paramref name="config"/>; throws <see cref="ArgumentException"/> for an unknown policy.</summary>
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
        return s.RankTiers.Length == 0 ? options : options with { Ranks = RankRuleOf(s, config) };
    }

    /// <summary>The job's rank tiers as the policy's rule; a client meeting none takes the job's first rank.</summary>
    public static RankRule RankRuleOf(SchedulerConfig scheduler, JobConfig config)
        => new(scheduler.RankTiers.Select(t => new RankTier(t.Rank, t.MinMemoryGiB, t.MaxSecondsPerStep)).ToList(), config.Ranks.Length > 0 ? config.Ranks[0] : 8);

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
