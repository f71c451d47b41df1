using Federated.Contracts.Jobs;
using Federated.Core.Scheduling;
using Federated.Server.Scheduling;

namespace Federated.Server.Tests.Jobs;

/// <summary>The scheduler's rules are written once, in Core; a job's validator only renames them into its fields.</summary>
public class SchedulerRuleNamingTests
{
    private static JobConfig Job(SchedulerConfig scheduler, int clientsPerRound = 4, int minClients = 2, int localSteps = 10) => new()
    {
        BaseModel = "m",
        TargetModules = ["wq"],
        Ranks = [4, 8],
        Rounds = 3,
        MinClientsPerRound = minClients,
        ClientsPerRound = clientsPerRound,
        LocalSteps = localSteps,
        Scheduler = scheduler,
    };

    [Fact]
    public void A_rule_reads_the_same_in_core_and_in_the_job_with_its_bound_renamed()
    {
        var config = Job(new SchedulerConfig { Policy = SchedulerConfig.FedCompass, MinSteps = 30, MaxSteps = 20 });
        var core = Assert.Throws<ArgumentException>(() => SchedulerPolicies.OptionsFor(config).Validate());
        Assert.Equal("FedCompassOptions.MaxSteps must be at least MinSteps = 30, got 20", core.Message);
        Assert.Equal(("scheduler.max_steps", "must be at least min_steps (30), got 20"), SchedulerPolicies.Violations(config).First());
    }

    [Fact]
    public void Every_setting_core_checks_has_a_job_field_and_every_policy_is_checked()
    {
        // Each setting breaks its rule; the synchronous policy's come from the job's own fields.
        var config = Job(new SchedulerConfig
        {
            Policy = SchedulerConfig.Synchronous,
            MinSteps = 0,
            MaxSteps = SchedulerOptions.MaxLocalSteps + 1,
            LatestFactor = 0.5,
            StalenessAlpha = 1.5,
            StalenessExponent = double.NaN,
            BufferSize = 0,
            MaxMissedDeadlines = FedCompassOptions.MaxMissedDeadlinesLimit + 1,
            SpeedMomentum = 0,
            RankTiers = [new RankTierConfig(4, -1, null), new RankTierConfig(8, 0, double.PositiveInfinity)],
        }, clientsPerRound: 0, minClients: 3, localSteps: 0) with { TaskTimeout = TimeSpan.Zero };

        var fields = SchedulerPolicies.Violations(config).Select(v => v.Field).ToHashSet();

        string[] expected =
        [
            "scheduler.speed_momentum", "scheduler.min_steps", "scheduler.max_steps", "scheduler.latest_factor",
            "scheduler.staleness_alpha", "scheduler.staleness_exponent", "scheduler.buffer_size", "scheduler.max_missed_deadlines",
            "clients_per_round", "min_clients_per_round", "local_steps", "task_timeout_seconds",
            "scheduler.rank_tiers[0].min_memory_gib", "scheduler.rank_tiers[1].max_seconds_per_step",
        ];
        Assert.Equal(expected.Order(), fields.Order());
        Assert.Equal("scheduler.speed_momentum", SchedulerPolicies.Violations(config).First().Field); // the chosen policy's first
    }

    [Fact]
    public void A_field_no_policy_breaks_gives_no_violation()
        => Assert.Empty(SchedulerPolicies.Violations(Job(new SchedulerConfig())));
}
