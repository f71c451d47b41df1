using System.Text.Json;
using System.Text.RegularExpressions;
using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;
using Federated.Core.Scheduling;
using Federated.Core.Scheduling.Ledger;

namespace Federated.Server.Scheduling;

/// <summary>Turns a job's configuration into its scheduling policy and task ledger, and persists policy state as JSON.</summary>
public static partial class SchedulerPolicies
{
    private static readonly JsonSerializerOptions Json = new();

    /// <summary>The job field each options setting comes from (<see cref="OptionsFor"/> is the other half of this map).</summary>
    private static readonly Dictionary<string, string> JobFields = new(StringComparer.Ordinal)
    {
        [nameof(SchedulerOptions.SpeedMomentum)] = "scheduler.speed_momentum",
        [nameof(FedCompassOptions.MinSteps)] = "scheduler.min_steps",
        [nameof(FedCompassOptions.MaxSteps)] = "scheduler.max_steps",
        [nameof(FedCompassOptions.Latest)] = "scheduler.latest_factor",
        [nameof(FedCompassOptions.Alpha)] = "scheduler.staleness_alpha",
        [nameof(FedCompassOptions.StalenessExponent)] = "scheduler.staleness_exponent",
        [nameof(FedCompassOptions.MaxMissedDeadlines)] = "scheduler.max_missed_deadlines",
        [nameof(FedBuffOptions.BufferSize)] = "scheduler.buffer_size",
        [nameof(SchedulerOptions.Weighting)] = "scheduler.weighting",
        [nameof(SynchronousOptions.ClientsPerRound)] = "clients_per_round",
        [nameof(SynchronousOptions.MinQuorum)] = "min_clients_per_round",
        [nameof(SynchronousOptions.LocalSteps)] = "local_steps",
        [nameof(SynchronousOptions.RoundDeadlineSeconds)] = "task_timeout_seconds",
        ["Ranks.DefaultRank"] = "ranks",
        ["Ranks.Tiers"] = "scheduler.rank_tiers",
        [nameof(RankTier.Rank)] = "rank",
        [nameof(RankTier.MinMemoryGiB)] = "min_memory_gib",
        [nameof(RankTier.MaxSecondsPerStep)] = "max_seconds_per_step",
    };

    /// <summary>
    /// The scheduler rules <paramref name="config"/> breaks, as (job field, message in the job's words), the chosen
    /// policy's first. Every policy's options are checked, not only the chosen one's, so a bad field is refused
    /// whichever policy reads it.
    /// </summary>
    public static IEnumerable<(string Field, string Message)> Violations(JobConfig config)
    {
        var scheduler = config.Scheduler ?? new SchedulerConfig { Policy = SchedulerConfig.Synchronous };
        foreach (var policy in SchedulerConfig.Names.OrderBy(p => p == scheduler.Policy ? 0 : 1))
        {
            // The weighting is the chosen policy's alone (synchronous rounds take only batch).
            var chosen = policy == scheduler.Policy;
            if (TryOptionsFor(config with { Scheduler = scheduler with { Policy = policy, Weighting = chosen ? scheduler.Weighting : "" } }, out var options) is { } unparsable)
            {
                yield return ("scheduler.weighting", unparsable);
                yield break;
            }
            foreach (var v in options!.Violations())
            {
                var rule = v.RuleWith(bound => $"{ShortName(JobField(bound))} ({v.BoundValue})");
                yield return (JobField(v.Path), $"{rule}, got {v.Value}");
            }
        }
    }

    /// <summary><see cref="OptionsFor"/>, or the message of the weighting name it could not read (the policy is checked before).</summary>
    private static string? TryOptionsFor(JobConfig config, out SchedulerOptions? options)
    {
        options = null;
        try
        {
            options = OptionsFor(config);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    /// <summary>"min_steps" for "scheduler.min_steps": how a rule names the field it compares with.</summary>
    private static string ShortName(string field) => field[(field.LastIndexOf('.') + 1)..];

    /// <summary>"scheduler.rank_tiers[1].min_memory_gib" for "Ranks.Tiers[1].MinMemoryGiB".</summary>
    private static string JobField(string path)
    {
        if (JobFields.TryGetValue(path, out var field))
            return field;
        if (path.StartsWith($"{nameof(SchedulerOptions.ClientWeights)}[", StringComparison.Ordinal))
            return $"client_weights{path[nameof(SchedulerOptions.ClientWeights).Length..]}";
        if (TierSetting().Match(path) is { Success: true } tier && JobFields.TryGetValue(tier.Groups[2].Value, out var setting))
            return $"scheduler.rank_tiers[{tier.Groups[1].Value}].{setting}";
        throw new InvalidOperationException($"scheduler setting '{path}' has no job field: add it to {nameof(JobFields)}");
    }

    [GeneratedRegex(@"^Ranks\.Tiers\[(\d+)\]\.(\w+)$")]
    private static partial Regex TierSetting();

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

    /// <summary>
    /// <see cref="Restore"/>, or the reason the job's saved state or options cannot be used (so the grain fails
    /// that job alone and the others go on).
    /// </summary>
    public static Exception? TryRestore(JobSnapshot job, SchedulerState state, TimeProvider time, out TaskLedger<UpdateSubmission>? ledger)
    {
        ledger = null;
        try
        {
            ledger = Restore(job, state, time);
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or JsonException)
        {
            return e;
        }
    }

    /// <summary>Writes the policy's state with the ledger's when the ledger changed since its last save.</summary>
    public static async Task SaveIfDirtyAsync(TaskLedger<UpdateSubmission> ledger, IPersistentState<SchedulerState> state)
    {
        if (!ledger.Dirty)
            return;
        state.State.PolicyState = Serialise(ledger.Policy.State);
        await state.WriteStateAsync();
        ledger.MarkSaved();
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
