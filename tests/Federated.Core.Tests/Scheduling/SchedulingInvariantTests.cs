using System.Text.Json;
using Federated.Core.Scheduling;
using Federated.Core.Scheduling.Simulation;

namespace Federated.Core.Tests.Scheduling;

public class SchedulingInvariantTests
{
    public static TheoryData<SchedulerOptions> AllPolicies => new()
    {
        new SynchronousOptions { ClientsPerRound = 8, MinQuorum = 4, LocalSteps = 30, RoundDeadlineSeconds = 200 },
        new FedAsyncOptions { LocalSteps = 30 },
        new FedBuffOptions { LocalSteps = 30, BufferSize = 5 },
        new FedCompassOptions { MaxMissedDeadlines = 2, Ranks = new RankRule([new RankTier(16, MinMemoryGiB: 16, MaxSecondsPerStep: 1.5), new RankTier(8, MinMemoryGiB: 8)], 4) },
    };

    private static SimulationOptions Simulation(int clients, long aggregations, ulong seed) => new()
    {
        Clients = clients,
        Seed = seed,
        Speeds = new ExponentialSpeed(Mean: 1.0, Min: 0.2),
        Drift = 0.1,
        NetworkSeconds = 3,
        DropoutProbability = 0.05,
        NeverReturnProbability = 0.3,
        ReturnAfterSeconds = 300,
        MaxAggregations = aggregations,
        ClientMemoryGiB = [4, 12, 32],
    };

    [Theory]
    [MemberData(nameof(AllPolicies))]
    public void State_saved_as_json_mid_timeline_continues_identically(SchedulerOptions options)
    {
        var simulation = Simulation(clients: 20, aggregations: 60, seed: 7);
        var straight = options.CreatePolicy();
        var expected = new VirtualTimeEngine(simulation, new NoTraining()).Run(straight);
        var restarting = new RestartingPolicy(options, restartAfter: 40);
        var actual = new VirtualTimeEngine(simulation, new NoTraining()).Run(restarting);

        Assert.True(restarting.Restarted);
        Assert.Equal(60, expected.Aggregations.Count);
        Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(actual));
        Assert.Equal(JsonSerializer.Serialize(straight.State), JsonSerializer.Serialize(restarting.State));
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void FedCompass_with_50_random_clients_keeps_its_invariants_over_a_long_timeline(ulong seed)
    {
        var options = new FedCompassOptions { MaxMissedDeadlines = 2 };
        var policy = new RecordingPolicy(options.CreatePolicy());
        var simulation = Simulation(clients: 50, aggregations: 1500, seed) with { NeverReturnProbability = 0 };
        var result = new VirtualTimeEngine(simulation, new NoTraining()).Run(policy);
        Assert.Equal(1500, result.Aggregations.Count);

        var assignments = policy.Decisions.SelectMany(d => d.Assignments).ToList();
        Assert.All(assignments, a => Assert.InRange(a.LocalSteps, options.MinSteps, options.MaxSteps));
        Assert.Contains(assignments, a => a.LocalSteps < options.MaxSteps); // groups really size the work

        var orders = policy.Decisions.SelectMany(d => d.Aggregations).ToList();
        Assert.Equal(Enumerable.Range(1, orders.Count).Select(v => (long)v), orders.Select(o => o.NewVersion));
        Assert.All(orders.Zip(orders.Skip(1)), pair => Assert.True(pair.Second.At >= pair.First.At));
        Assert.All(orders.SelectMany(o => o.Updates), u =>
        {
            Assert.InRange(u.Staleness, 0, long.MaxValue);
            Assert.InRange(u.Weight, 1e-12, options.Alpha);
        });

        // Every accepted update is aggregated exactly once, or still waits in a group or the held list at the end.
        var rejected = policy.Decisions.SelectMany(d => d.Rejected).Select(r => r.TaskId).ToHashSet();
        var accepted = policy.Reports.Select(r => r.TaskId).Where(t => !rejected.Contains(t)).ToList();
        Assert.Equal(accepted.Count, accepted.Distinct().Count());
        var aggregated = orders.SelectMany(o => o.Updates).Select(u => u.TaskId).ToList();
        Assert.Equal(aggregated.Count, aggregated.Distinct().Count());
        var state = (FedCompassState)policy.State;
        var waiting = state.Groups.Values.SelectMany(g => g.Arrived).Concat(state.Held).Select(u => u.TaskId).ToList();
        Assert.Equal(accepted.Order(), aggregated.Concat(waiting).Order());
    }

    [Theory]
    [MemberData(nameof(AllPolicies))]
    public void Engine_runs_100_clients_to_100_aggregations_with_consistent_records(SchedulerOptions options)
    {
        var result = new VirtualTimeEngine(Simulation(clients: 100, aggregations: 100, seed: 11), new NoTraining()).Run(options.CreatePolicy());

        Assert.Equal(100, result.Aggregations.Count);
        Assert.Equal(Enumerable.Range(1, 100).Select(v => (long)v), result.Aggregations.Select(a => a.Version));
        var applied = result.Tasks.Where(t => t.Outcome == TaskOutcome.Applied).ToList();
        Assert.Equal(result.Aggregations.Sum(a => a.Updates), applied.Count);
        Assert.All(applied, t =>
        {
            Assert.True(t.End >= t.Start + 3, $"task {t.TaskId} ended before its network time");
            Assert.Equal(t.AppliedVersion!.Value - 1 - t.StartVersion, t.Staleness);
        });
        Assert.Contains(result.Tasks, t => t.Outcome == TaskOutcome.Dropped);
    }

    [Fact]
    public void Options_are_read_from_json_by_policy_name_with_defaults_for_the_rest()
    {
        var options = JsonSerializer.Deserialize<SchedulerOptions>("""{"policy":"fedcompass","MinSteps":10,"Ranks":{"Tiers":[{"Rank":16,"MinMemoryGiB":24}],"DefaultRank":8}}""");
        var compass = Assert.IsType<FedCompassOptions>(options);
        Assert.Equal((10, 100, 1.5), (compass.MinSteps, compass.MaxSteps, compass.Latest));
        Assert.Equal(16, compass.Ranks!.RankFor(32, null));
        Assert.IsType<SynchronousOptions>(JsonSerializer.Deserialize<SchedulerOptions>("""{"policy":"synchronous"}"""));
    }

    [Fact]
    public void Engine_passes_client_memory_so_a_rank_rule_sizes_each_client()
    {
        var simulation = new SimulationOptions { Clients = 4, ClientMemoryGiB = [4, 32], MaxAggregations = 8 };
        var rule = new RankRule([new RankTier(16, MinMemoryGiB: 16)], DefaultRank: 4);
        var policy = new RecordingPolicy(new FedAsyncOptions { Ranks = rule }.CreatePolicy());
        new VirtualTimeEngine(simulation, new NoTraining()).Run(policy);

        var ranks = policy.Decisions.SelectMany(d => d.Assignments).GroupBy(a => a.ClientId).ToDictionary(g => g.Key, g => g.Select(a => a.Rank).Distinct().Single());
        Assert.Equal([4, 16, 4, 16], ranks.OrderBy(r => r.Key).Select(r => r.Value!.Value));
    }

    [Fact]
    public void Engine_times_tasks_from_steps_speed_and_network_time()
    {
        // One client replaying 1.0 then 2.0 s/step, 10 steps per task, 5 s of network:
        // task 1: 0 → 0 + 10·1.0 + 5 = 15; task 2: 15 → 15 + 10·2.0 + 5 = 40; task 3 (1.0 again): 40 → 55.
        var simulation = new SimulationOptions
        {
            Clients = 1,
            Speeds = new TraceSpeed([[1.0, 2.0]]),
            NetworkSeconds = 5,
            MaxAggregations = 3,
        };
        var result = new VirtualTimeEngine(simulation, new NoTraining()).Run(new FedAsyncOptions { LocalSteps = 10 }.CreatePolicy());

        Assert.Equal([(0.0, 15.0), (15.0, 40.0), (40.0, 55.0)], result.Tasks.Take(3).Select(t => (t.Start, t.End!.Value)));
        Assert.Equal([15.0, 40.0, 55.0], result.Aggregations.Select(a => a.Time));
        Assert.Equal([0L, 1L, 2L], result.Tasks.Take(3).Select(t => t.StartVersion));
    }

    [Fact]
    public void Same_seed_same_run_and_bad_simulation_options_name_the_field()
    {
        var simulation = Simulation(clients: 30, aggregations: 50, seed: 5) with { Speeds = new NormalSpeed(Mean: 1, StdDev: 0.5, Min: 0.1) };
        var engine = new VirtualTimeEngine(simulation, new NoTraining());
        var first = engine.Run(new FedCompassOptions().CreatePolicy());
        Assert.Throws<InvalidOperationException>(() => engine.Run(new FedCompassOptions().CreatePolicy()));
        var second = new VirtualTimeEngine(simulation, new NoTraining()).Run(new FedCompassOptions().CreatePolicy());
        Assert.Equal(JsonSerializer.Serialize(first), JsonSerializer.Serialize(second));

        var e = Assert.Throws<ArgumentException>(() => new VirtualTimeEngine(simulation with { DropoutProbability = 1.5 }, new NoTraining()));
        Assert.Contains("SimulationOptions.DropoutProbability must be in [0, 1), got 1.5", e.Message);
        e = Assert.Throws<ArgumentException>(() => new VirtualTimeEngine(simulation with { ClientMemoryGiB = [8, 0] }, new NoTraining()));
        Assert.Contains("SimulationOptions.ClientMemoryGiB[1] must be a finite number > 0, got 0", e.Message);
        e = Assert.Throws<ArgumentException>(() => new VirtualTimeEngine(simulation with { Speeds = new UniformSpeed(2, 1) }, new NoTraining()));
        Assert.Contains("UniformSpeed.Max", e.Message);
        e = Assert.Throws<ArgumentException>(() => new VirtualTimeEngine(simulation with { Speeds = new TraceSpeed([[1.0, -2.0]]) }, new NoTraining()));
        Assert.Contains("TraceSpeed.PerClient[0][1] must be a finite number > 0, got -2", e.Message);
    }
}
