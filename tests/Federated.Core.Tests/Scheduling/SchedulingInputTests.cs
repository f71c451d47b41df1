using Federated.Core.Scheduling;

namespace Federated.Core.Tests.Scheduling;

public class SchedulingInputTests
{
    public static TheoryData<SchedulerOptions, string> BadOptions => new()
    {
        { new FedCompassOptions { MinSteps = 50, MaxSteps = 40 }, "FedCompassOptions.MaxSteps must be at least MinSteps = 50, got 40" },
        { new FedCompassOptions { Latest = 0.5 }, "FedCompassOptions.Latest" },
        { new FedCompassOptions { MaxMissedDeadlines = 0 }, "FedCompassOptions.MaxMissedDeadlines" },
        { new FedCompassOptions { SpeedMomentum = 0 }, "FedCompassOptions.SpeedMomentum" },
        { new SynchronousOptions { ClientsPerRound = 2, MinQuorum = 3 }, "SynchronousOptions.MinQuorum must be in [1, ClientsPerRound = 2], got 3" },
        { new SynchronousOptions { RoundDeadlineSeconds = double.NaN }, "SynchronousOptions.RoundDeadlineSeconds" },
        { new FedAsyncOptions { Alpha = 1.5 }, "FedAsyncOptions.Alpha" },
        { new FedBuffOptions { BufferSize = 0 }, "FedBuffOptions.BufferSize" },
        { new FedAsyncOptions { Ranks = new RankRule([new RankTier(0)], 4) }, "rank rule: tier 0: Rank must be at least 1, got 0" },
        { new SynchronousOptions { Weighting = UpdateWeighting.Federation }, "SynchronousOptions.Weighting must be batch" },
        { new FedCompassOptions { Weighting = (UpdateWeighting)7 }, "FedCompassOptions.Weighting must be federation or batch, got 7" },
        { new FedBuffOptions { Alpha = 0 }, "FedBuffOptions.Alpha must be in (0, 1]" },
        { new FedAsyncOptions { ClientWeights = new Dictionary<string, double> { ["x"] = double.NaN } }, "FedAsyncOptions.ClientWeights[x] must be a finite number > 0" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Bad_options_name_the_field(SchedulerOptions options, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => options.CreatePolicy());
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Bad_events_are_refused_with_a_clear_message_and_change_nothing()
    {
        var p = new FedCompassOptions().CreatePolicy();
        var task = p.ClientReady("A", 10).Single("A").TaskId;

        Assert.Contains("unknown client 'Z'", Assert.Throws<ArgumentException>(() => p.UpdateArrived(new UpdateReport("Z", task, 20, 5))).Message);
        Assert.Contains("task 99, which was never issued", Assert.Throws<ArgumentException>(() => p.UpdateArrived(new UpdateReport("A", 99, 20, 5))).Message);
        Assert.Contains("Samples must be at least 1, got 0", Assert.Throws<ArgumentException>(() => p.UpdateArrived(new UpdateReport("A", task, 20, 0))).Message);
        Assert.Contains("ComputeSecondsPerStep", Assert.Throws<ArgumentException>(() => p.UpdateArrived(new UpdateReport("A", task, 20, 5, -1))).Message);
        Assert.Contains("the clock went back from 10 to 5", Assert.Throws<ArgumentOutOfRangeException>(() => p.TimerFired(5)).Message);
        Assert.Contains("finite", Assert.Throws<ArgumentOutOfRangeException>(() => p.TimerFired(double.NaN)).Message);
        Assert.Contains("memory", Assert.Throws<ArgumentOutOfRangeException>(() => p.ClientReady("B", 20, memoryGiB: -1)).Message);
        Assert.Contains("unknown client 'Q'", Assert.Throws<ArgumentException>(() => p.ClientLost("Q", 20)).Message);

        Assert.Equal(task, p.OpenTask("A").TaskId);
        Assert.Equal(0, p.Version);
        Assert.Single(p.Arrive("A", 30).Aggregations);
    }

    [Fact]
    public void State_of_another_policy_is_refused()
    {
        var state = new FedAsyncOptions().CreatePolicy().State;
        var e = Assert.Throws<ArgumentException>(() => new FedCompassOptions().CreatePolicy(state));
        Assert.Contains("FedAsyncState", e.Message);
    }

    [Fact]
    public void A_client_that_asks_again_is_offered_its_open_task()
    {
        var p = new FedCompassOptions().CreatePolicy();
        var first = p.ClientReady("A", 0).Single("A");
        Assert.Equal(first, p.ClientReady("A", 5).Single("A"));
        Assert.Equal(2, p.State.NextTaskId);
    }

    [Fact]
    public void Rank_rule_picks_the_first_tier_met_and_settles_once_the_speed_is_measured()
    {
        var rule = new RankRule([new RankTier(16, MinMemoryGiB: 16, MaxSecondsPerStep: 1.0), new RankTier(8, MinMemoryGiB: 8)], DefaultRank: 4);
        Assert.Equal(16, rule.RankFor(32, null));
        Assert.Equal(8, rule.RankFor(32, 2.0));
        Assert.Equal(4, rule.RankFor(4, 0.1));
        Assert.Equal(4, rule.RankFor(null, null));

        var p = new FedAsyncOptions { LocalSteps = 10, Ranks = rule }.CreatePolicy();
        Assert.Equal(16, p.ClientReady("A", 0, memoryGiB: 32).Single("A").Rank); // speed unknown: the big tier
        Assert.Equal(4, p.ClientReady("B", 0, memoryGiB: 4).Single("B").Rank);

        // 10 steps in 20 s: 2.0 s/step is too slow for rank 16 → rank 8, now settled.
        Assert.Equal(8, p.Arrive("A", 20).Single("A").Rank);
        // 10 steps in 5 s: s = 0.1·2.0 + 0.9·0.5 = 0.65 would meet rank 16, but the rank stays 8.
        Assert.Equal(8, p.Arrive("A", 25).Single("A").Rank);
        Timeline.Near(0.65, p.State.Clients["A"].SecondsPerStep!.Value);
    }
}
