using Federated.Protos.V1;
using Federated.Server.Transport;
using Federated.Simulations.LocalRuns;

namespace Federated.Server.Tests.Cli;

/// <summary>The scheduler choice from `federated run` settings through the job spec to the server's config and back.</summary>
public class SchedulerSettingsTests
{
    [Theory]
    [InlineData("round-robin", null, null, null, "--scheduler 'round-robin' is not known; choose one of fedcompass, synchronous, fedasync, fedbuff")]
    [InlineData("fedcompass", 10, 5, null, "--max-steps at least --min-steps, got 10 and 5")]
    [InlineData("fedbuff", null, null, 0, "--buffer-size must be at least 1, got 0")]
    public void Bad_scheduler_settings_are_named(string scheduler, int? minSteps, int? maxSteps, int? buffer, string message)
    {
        var settings = new LocalRunSettings { OutputDirectory = "", Scheduler = scheduler, MinSteps = minSteps, MaxSteps = maxSteps, BufferSize = buffer };
        Assert.Contains(settings.Validate(), e => e.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void A_local_run_sizes_fedcompass_tasks_from_its_steps_and_the_server_keeps_every_field()
    {
        var spec = LocalFederation.JobSpec(new LocalRunSettings { OutputDirectory = "", LocalSteps = 50, Clients = 4, Scheduler = "fedcompass" });
        Assert.Equal(("fedcompass", 10, 50, 2), (spec.Scheduler.Policy, spec.Scheduler.MinSteps, spec.Scheduler.MaxSteps, spec.Scheduler.BufferSize));

        Assert.Equal("synchronous", LocalFederation.JobSpec(new LocalRunSettings { OutputDirectory = "" }).Scheduler.Policy); // the demo's rounds

        spec.Scheduler.LatestFactor = 2;
        spec.Scheduler.StalenessAlpha = 0.6;
        spec.Scheduler.StalenessExponent = 1;
        spec.Scheduler.MaxMissedDeadlines = 5;
        spec.Scheduler.SpeedMomentum = 0.5;
        var config = ProtoMapping.ToConfig(spec);
        Assert.Equal(spec.Scheduler, ProtoMapping.ToSpec(spec.JobId, config).Scheduler);
    }

    [Fact]
    public void Rank_tiers_parse_from_the_command_line_and_bad_ones_are_named()
    {
        var tiers = Federated.Simulations.Commands.RankTiers.Parse("16:16, 8:4:2.5");
        Assert.Equal((16, 16.0, false), (tiers[0].Rank, tiers[0].MinMemoryGib, tiers[0].HasMaxSecondsPerStep));
        Assert.Equal((8, 4.0, 2.5), (tiers[1].Rank, tiers[1].MinMemoryGib, tiers[1].MaxSecondsPerStep));
        Assert.Empty(Federated.Simulations.Commands.RankTiers.Parse(null));
        Assert.Contains("'16'", Assert.Throws<FormatException>(() => Federated.Simulations.Commands.RankTiers.Parse("16")).Message);
        Assert.Contains("'x'", Assert.Throws<FormatException>(() => Federated.Simulations.Commands.RankTiers.Parse("8:4:x")).Message);
    }

    [Fact]
    public void A_job_stored_before_schedulers_were_chosen_reports_synchronous_rounds()
    {
        var config = ProtoMapping.ToConfig(new JobSpec { BaseModel = "builtin:tiny", Rounds = 1 }) with { Scheduler = null };
        Assert.Equal("synchronous", ProtoMapping.ToSpec("old", config).Scheduler.Policy);
        Assert.IsType<Federated.Core.Scheduling.SynchronousOptions>(Federated.Server.Scheduling.SchedulerPolicies.OptionsFor(config));
    }
}
