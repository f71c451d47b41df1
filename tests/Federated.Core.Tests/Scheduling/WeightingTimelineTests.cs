using System.Text.Json;
using Federated.Core.Scheduling;

namespace Federated.Core.Tests.Scheduling;

/// <summary>
/// Update weights on hand-worked timelines. Federation weighting (the default, as the FedCompass authors' APPFL
/// aggregators): w = α·S(τ)·n_k/N, S(τ) = (τ + 1)^(−a), N the last reported samples of every client the policy knows
/// and was not removed, a client not reported yet counting at the mean of the known ones. Batch weighting: the
/// earlier n_k / Σ n over the aggregated updates. Defaults α 0.9, a 0.5.
/// </summary>
public class WeightingTimelineTests
{
    /// <summary>Four clients, ten samples each, first returns one by one (the measured case).</summary>
    private static double[] FirstFiveWeights(SchedulerOptions options)
    {
        var p = options.CreatePolicy();
        foreach (var client in new[] { "A", "B", "C", "D" })
            p.ClientReady(client, 0);
        return new[] { ("A", 10.0), ("B", 12.0), ("C", 14.0), ("D", 16.0), ("A", 20.0) }
            .Select(x => Assert.Single(p.Arrive(x.Item1, x.Item2).SingleAggregation().Updates).Weight)
            .ToArray();
    }

    [Fact]
    public void FedAsync_gives_a_lone_update_its_federation_share_not_the_whole_alpha()
    {
        // A at 10 from v0 (τ 0), B at 12 from v0 (V = 1, τ 1), C at 14 (τ 2), D at 16 (τ 3), A at 20 from v1 (V = 4, τ 3).
        // N = 4 × 10 from the first update on (the three not reported count at A's 10), so w = 0.9·S(τ)/4 = 0.225·S(τ):
        // 0.225, 0.225/√2 = 0.159099, 0.225/√3 = 0.129904, 0.225/2 = 0.1125, 0.1125.
        var weights = FirstFiveWeights(new FedAsyncOptions { LocalSteps = 5 });
        double[] expected = [0.225, 0.159099, 0.129904, 0.1125, 0.1125];
        for (var i = 0; i < expected.Length; i++)
            Timeline.Near(expected[i], weights[i]);
    }

    [Fact]
    public void Batch_weighting_keeps_the_earlier_weights()
    {
        // The same timeline: each aggregation is one update, its own batch, so w = 0.9·S(τ):
        // 0.9, 0.9/√2 = 0.636396, 0.9/√3 = 0.519615, 0.9/2 = 0.45, 0.45 (what `federated run --scheduler fedcompass` measured before).
        var weights = FirstFiveWeights(new FedAsyncOptions { LocalSteps = 5, Weighting = UpdateWeighting.Batch });
        double[] expected = [0.9, 0.636396, 0.519615, 0.45, 0.45];
        for (var i = 0; i < expected.Length; i++)
            Timeline.Near(expected[i], weights[i]);

        // FedBuff, K = 2, batch: S(τ)·(share of the buffer), no α. A (client weight 1 in place of its samples) and B
        // (30 samples) fresh: 1/31 = 0.032258 and 30/31 = 0.967742. Then C (20) and A, both from v0 at V = 1 (τ 1):
        // 2^−0.5·20/21 = 0.673435 and 2^−0.5·1/21 = 0.033672.
        var (first, second) = FedBuffTimeline(UpdateWeighting.Batch);
        Timeline.Near(0.032258, first.Update("A").Weight);
        Timeline.Near(0.967742, first.Update("B").Weight);
        Timeline.Near(0.673435, second.Update("C").Weight);
        Timeline.Near(0.033672, second.Update("A").Weight);
    }

    [Fact]
    public void FedAsync_federation_size_follows_reports_joins_and_removals()
    {
        var p = new FedAsyncOptions { LocalSteps = 5 }.CreatePolicy();
        p.ClientReady("A", 0);
        p.ClientReady("B", 0);

        // t=10: A, 30 samples, τ 0; B counts at A's 30: N = 60, w = 0.9·30/60 = 0.45 → v1.
        Timeline.Near(0.45, p.Arrive("A", 10, samples: 30).SingleAggregation().Update("A").Weight);

        // t=15: C joins (task from v1). t=20: B, 10 samples, from v0 at V = 1 (τ 1); C counts at (30 + 10)/2 = 20:
        // N = 30 + 10 + 20 = 60, w = 0.9·2^−0.5·10/60 = 0.106066 → v2.
        p.ClientReady("C", 15);
        Timeline.Near(0.106066, p.Arrive("B", 20, samples: 10).SingleAggregation().Update("B").Weight);

        // t=25: an operator removes C: its task is withdrawn and it leaves N.
        var cTask = p.OpenTask("C").TaskId;
        Assert.Equal([cTask], p.ClientRemoved("C", 25).Cancelled);
        Assert.True(p.State.Clients["C"].Removed);

        // t=30: A, 30 samples, from v1 at V = 2 (τ 1): N = 30 + 10 = 40, w = 0.9·2^−0.5·30/40 = 0.477297 → v3.
        Timeline.Near(0.477297, p.Arrive("A", 30, samples: 30).SingleAggregation().Update("A").Weight);

        // t=35: C asks again and is back in N at the mean 20. t=40: A, 30, from v3 (τ 0): N = 60, w = 0.45 → v4.
        p.ClientReady("C", 35);
        Assert.False(p.State.Clients["C"].Removed);
        Timeline.Near(0.45, p.Arrive("A", 40, samples: 30).SingleAggregation().Update("A").Weight);

        // A client the policy never saw is ignored.
        Assert.Same(ScheduleDecision.None, p.ClientRemoved("nobody", 41));
    }

    [Fact]
    public void A_policy_restored_from_its_saved_state_counts_the_same_federation()
    {
        // The policy keeps N as running totals; a restored one rebuilds them from the state and must agree.
        var options = new FedAsyncOptions { LocalSteps = 5, ClientWeights = new Dictionary<string, double> { ["A"] = 0.3 } };
        var p = options.CreatePolicy();
        foreach (var client in new[] { "A", "B", "C" })
            p.ClientReady(client, 0);
        // t=1: A (weight 0.3 in place of its 10 samples); B and C count at the mean 0.3: N = 0.9, w = 0.9·0.3/0.9 = 0.3.
        Timeline.Near(0.3, p.Arrive("A", 1).SingleAggregation().Update("A").Weight);
        p.Arrive("B", 2, samples: 20);
        p.ClientRemoved("C", 3);
        p.ClientReady("C", 4);
        p.ClientRemoved("B", 5);
        var restored = options.CreatePolicy(JsonSerializer.Deserialize<SchedulingState>(JsonSerializer.Serialize(p.State)));

        // t=6: A from v1 at V = 2 (τ 1). Members A (0.3) and C (back, not reported: the mean 0.3); B removed: N = 0.6,
        // w = 0.9·2^−0.5·0.3/0.6 = 0.318198, in both.
        var live = p.Arrive("A", 6).SingleAggregation().Update("A").Weight;
        Timeline.Near(0.318198, live);
        Assert.Equal(live, restored.Arrive("A", 6).SingleAggregation().Update("A").Weight);
    }

    /// <summary>FedBuff, K = 2, clients A (client weight 1), B and C: A 10 and B 30 samples, then C 20 and A 10.</summary>
    private static (AggregationOrder First, AggregationOrder Second) FedBuffTimeline(UpdateWeighting weighting)
    {
        var p = new FedBuffOptions { BufferSize = 2, LocalSteps = 5, Weighting = weighting, ClientWeights = new Dictionary<string, double> { ["A"] = 1 } }.CreatePolicy();
        foreach (var client in new[] { "A", "B", "C" })
            p.ClientReady(client, 0);
        Assert.Empty(p.Arrive("A", 10, samples: 10).Aggregations); // A's next task is from v0: the buffer is not applied yet
        var first = p.Arrive("B", 20, samples: 30).SingleAggregation();
        Assert.Empty(p.Arrive("C", 30, samples: 20).Aggregations);
        var second = p.Arrive("A", 40, samples: 10).SingleAggregation();
        Assert.Equal((1L, 1L), (second.Update("C").Staleness, second.Update("A").Staleness));
        return (first, second);
    }

    [Fact]
    public void FedBuff_weighs_each_buffered_update_by_alpha_staleness_and_its_share_of_the_federation()
    {
        // v1 from A and B, fresh. Masses: A its client weight 1, B 30, C not reported: the mean (1 + 30)/2 = 15.5.
        // N = 46.5: A 0.9·1/46.5 = 0.019355, B 0.9·30/46.5 = 0.580645.
        // v2 from C (20) and A (1), both from v0 at V = 1 (τ 1): N = 1 + 30 + 20 = 51:
        // C 0.9·2^−0.5·20/51 = 0.249567, A 0.9·2^−0.5·1/51 = 0.012478.
        var (first, second) = FedBuffTimeline(UpdateWeighting.Federation);
        Timeline.Near(0.019355, first.Update("A").Weight);
        Timeline.Near(0.580645, first.Update("B").Weight);
        Timeline.Near(0.249567, second.Update("C").Weight);
        Timeline.Near(0.012478, second.Update("A").Weight);
    }

    [Fact]
    public void FedCompass_group_update_is_the_sum_of_its_members_federation_weights()
    {
        // Three clients of ten samples each, so N = 30 throughout (C never reports and counts at 10).
        var p = new FedCompassOptions().CreatePolicy();
        foreach (var client in new[] { "A", "B", "C" })
            p.ClientReady(client, 0);

        // t=100: A alone, τ 0: 0.9·10/30 = 0.3 → v1; A makes group 1 (T_exp 200, T_max 250).
        Timeline.Near(0.3, p.Arrive("A", 100).SingleAggregation().Update("A").Weight);
        // t=120: B alone, from v0 at V = 1 (τ 1): 0.9·2^−0.5/3 = 0.212132 → v2; B joins group 1 (66 steps, from v2).
        var b = p.Arrive("B", 120);
        Timeline.Near(0.212132, b.SingleAggregation().Update("B").Weight);
        Assert.Equal(1, b.Single("B").GroupId);

        // t=200 A waits; t=210 B completes group 1 → v3 from V = 2: A from v1 (τ 1) 0.212132, B from v2 (τ 0) 0.3;
        // the group's update weighs 0.512132 in all (batch weighting would give 0.318198 + 0.45 = 0.768198).
        Assert.Empty(p.Arrive("A", 200).Aggregations);
        var group = p.Arrive("B", 210).SingleAggregation();
        Assert.Equal((3L, 1L), (group.NewVersion, group.GroupId!.Value));
        Timeline.Near(0.212132, group.Update("A").Weight);
        Timeline.Near(0.3, group.Update("B").Weight);
        Timeline.Near(0.512132, group.Updates.Sum(u => u.Weight));
    }

    [Fact]
    public void Weighting_names_parse_and_synchronous_rounds_take_only_batch()
    {
        Assert.Equal(UpdateWeighting.Federation, UpdateWeightings.Parse(" Federation "));
        Assert.Equal(UpdateWeighting.Batch, UpdateWeightings.Parse("batch"));
        Assert.Contains("choose federation or batch", Assert.Throws<ArgumentException>(() => UpdateWeightings.Parse("share")).Message);
        Assert.Equal(UpdateWeighting.Batch, new SynchronousOptions().Weighting);
        Assert.Equal(UpdateWeighting.Federation, new FedCompassOptions().Weighting);
    }
}
