using Federated.Core.Scheduling;

namespace Federated.Core.Tests.Scheduling;

/// <summary>
/// FedCompass walked step by step; every expected number is worked out by hand in the comments
/// (defaults: Q_min 20, Q_max 100, λ 1.5, m 0.9, α 0.9, a 0.5, federation weighting: w = α·(τ + 1)^(−a)·n_k/N with N
/// the last reported samples of every known client, one not reported yet counting at the mean of those that have).
/// </summary>
public class FedCompassTimelineTests
{
    private static ISchedulingPolicy Policy(FedCompassOptions? options = null) => (options ?? new FedCompassOptions()).CreatePolicy();

    private static FedCompassState StateOf(ISchedulingPolicy policy) => (FedCompassState)policy.State;

    [Fact]
    public void First_tasks_then_join_and_create_follow_the_hand_worked_timeline()
    {
        var p = Policy();

        // t=0: new clients get Q_max = 100 steps from version 0, outside any group.
        foreach (var client in new[] { "A", "B", "C", "D" })
        {
            var first = p.ClientReady(client, 0).Single(client);
            Assert.Equal(100, first.LocalSteps);
            Assert.Equal(0, first.StartVersion);
            Assert.Null(first.GroupId);
            Assert.Null(first.Deadline);
        }
        Assert.Null(p.NextDeadline);

        // t=100: A's first update (10 samples), s_A = 100 s / 100 steps = 1.0, applied alone: staleness 0. B, C, D count
        // at A's 10: N = 40, weight 0.9·1·10/40 = 0.225 → v1.
        // No group exists, so Q_max: group 1 with q = 100, T_exp = 100 + 100 = 200, T_max = 100 + 1.5·100 = 250.
        var d = p.Arrive("A", 100);
        var alone = d.SingleAggregation();
        Assert.Equal(1, alone.NewVersion);
        Assert.Null(alone.GroupId);
        Assert.Equal(0, alone.Update("A").Staleness);
        Timeline.Near(0.225, alone.Update("A").Weight);
        var a = d.Single("A");
        Assert.Equal((100, 1L, 1L), (a.LocalSteps, a.StartVersion, a.GroupId!.Value));
        Timeline.Near(250, a.Deadline!.Value);
        Assert.Equal(250, p.NextDeadline);

        // t=120: B's first update (30 samples), s_B = 1.2, staleness 1 − 0 = 1. C, D count at the mean (10 + 30)/2 = 20:
        // N = 80, weight 0.9·2^−0.5·30/80 = 0.636396·0.375 = 0.238649 → v2.
        // Join group 1: q = ⌊(200 − 120)/1.2⌋ = ⌊66.7⌋ = 66 in [20, 100]; T_exp stays 200.
        d = p.Arrive("B", 120, samples: 30);
        Timeline.Near(0.238649, d.SingleAggregation().Update("B").Weight);
        var b = d.Single("B");
        Assert.Equal((66, 2L, 1L), (b.LocalSteps, b.StartVersion, b.GroupId!.Value));
        Assert.Equal(200, StateOf(p).Groups[1].ExpectedTime);

        // t=190: C's first update, s_C = 1.9, staleness 2. D counts at 50/3: N = 50 + 16.667 = 66.667,
        // weight 0.9·3^−0.5·10/66.667 = 0.519615·0.15 = 0.077942 → v3.
        // Join group 1: q = ⌊(200 − 190)/1.9⌋ = 5 < Q_min, so no group fits. Create: group 1 is before its T_max 250 and
        // its fastest member is A (1.0): q = ⌊(250 + 1.0·100 − 190)/1.9⌋ = ⌊84.2⌋ = 84 ≤ Q_max.
        // Group 2: T_exp = 190 + 84·1.9 = 349.6, T_max = 190 + 1.5·159.6 = 429.4.
        d = p.Arrive("C", 190);
        Timeline.Near(0.077942, d.SingleAggregation().Update("C").Weight);
        var c = d.Single("C");
        Assert.Equal((84, 3L, 2L), (c.LocalSteps, c.StartVersion, c.GroupId!.Value));
        Timeline.Near(349.6, StateOf(p).Groups[2].ExpectedTime);
        Timeline.Near(429.4, c.Deadline!.Value);

        // t=200: A is back on time (s_A stays 1.0); B is still out, so A waits.
        d = p.Arrive("A", 200);
        Assert.Empty(d.Aggregations);
        Assert.Empty(d.Assignments);
        Assert.Equal(["A"], d.Waiting);

        // t=210: B is back: 66 steps in 90 s = 1.363636; s_B = 0.1·1.2 + 0.9·1.363636 = 1.347273. Group 1 is complete:
        // v4 from V = 3. A started at v1 (staleness 2), B at v2 (staleness 1); N still 66.667 (D not reported):
        // weights 0.9·3^−0.5·10/66.667 = 0.077942 and 0.9·2^−0.5·30/66.667 = 0.636396·0.45 = 0.286378.
        d = p.Arrive("B", 210, samples: 30);
        var group = d.SingleAggregation();
        Assert.Equal((4L, 1L), (group.NewVersion, group.GroupId!.Value));
        Assert.Equal(2, group.Update("A").Staleness);
        Assert.Equal(1, group.Update("B").Staleness);
        Timeline.Near(0.077942, group.Update("A").Weight);
        Timeline.Near(0.286378, group.Update("B").Weight);
        Timeline.Near(1.347273, p.State.Clients["B"].SecondsPerStep!.Value);

        // Re-assigned fastest first: A (1.0) then B (1.347).
        // A: join group 2 gives ⌊(349.6 − 210)/1.0⌋ = 139 > Q_max. Create over group 2 (T_max 429.4, f = 1.9):
        //    ⌊(429.4 + 190 − 210)/1.0⌋ = 409 > Q_max, discarded; none left, so Q_max = 100: group 3, T_exp 310, T_max 360.
        // B: join group 2 gives ⌊139.6/1.347273⌋ = 103 > Q_max; group 3 gives ⌊100/1.347273⌋ = ⌊74.2⌋ = 74: joins group 3.
        Assert.Equal(["A", "B"], d.Assignments.Select(x => x.ClientId));
        a = d.Single("A");
        b = d.Single("B");
        Assert.Equal((100, 4L, 3L), (a.LocalSteps, a.StartVersion, a.GroupId!.Value));
        Assert.Equal((74, 4L, 3L), (b.LocalSteps, b.StartVersion, b.GroupId!.Value));
        Assert.Equal(310, StateOf(p).Groups[3].ExpectedTime);
        Assert.Equal(360, StateOf(p).Groups[3].LatestTime);

        // t=220: D's first update, s_D = 2.2, staleness 4; now N = 10 + 30 + 10 + 10 = 60:
        // weight 0.9·5^−0.5·10/60 = 0.402492/6 = 0.067082 → v5.
        // Join: group 2 gives ⌊(349.6 − 220)/2.2⌋ = ⌊58.9⌋ = 58, group 3 gives ⌊(310 − 220)/2.2⌋ = ⌊40.9⌋ = 40; the larger wins.
        d = p.Arrive("D", 220);
        Timeline.Near(0.067082, d.SingleAggregation().Update("D").Weight);
        Assert.Equal(5, p.Version);
        var dd = d.Single("D");
        Assert.Equal((58, 5L, 2L), (dd.LocalSteps, dd.StartVersion, dd.GroupId!.Value));
        Timeline.Near(349.6, StateOf(p).Groups[2].ExpectedTime);
        Assert.Equal(1.9, StateOf(p).Groups[2].FastestSecondsPerStep);
        Assert.Equal(360, p.NextDeadline);
    }

    [Fact]
    public void A_slow_client_far_below_Q_min_is_raised_to_Q_min()
    {
        var p = Policy();
        p.ClientReady("A", 0);
        p.ClientReady("E", 0);

        // A returns every 100 s (s_A = 1.0). Its group never has anyone else, so each return aggregates it alone and,
        // with no other group, it gets Q_max again: the group made at 100k has T_exp 100k + 100 and T_max 100k + 150.
        for (var k = 1; k <= 20; k++)
        {
            var d = p.Arrive("A", 100 * k);
            Assert.Equal(k, d.SingleAggregation().NewVersion);
            Assert.Equal(0, d.SingleAggregation().Update("A").Staleness);
            var a = d.Single("A");
            Assert.Equal(100, a.LocalSteps);
            Timeline.Near(100 * k + 150, a.Deadline!.Value);
        }

        // t=2050: E's first update, s_E = 2050/100 = 20.5, staleness 20; N = 10 + 10:
        // weight 0.9·21^−0.5·10/20 = 0.196396/2 = 0.098198 → v21.
        // Join A's group (T_exp 2100): ⌊50/20.5⌋ = 2 < Q_min. Create: ⌊(2150 + 1.0·100 − 2050)/20.5⌋ = ⌊9.76⌋ = 9,
        // raised to Q_min = 20. T_exp = 2050 + 20·20.5 = 2460, T_max = 2050 + 1.5·410 = 2665.
        var slow = p.Arrive("E", 2050);
        Timeline.Near(0.098198, slow.SingleAggregation().Update("E").Weight);
        var e = slow.Single("E");
        Assert.Equal(20, e.LocalSteps);
        Timeline.Near(2665, e.Deadline!.Value);
        Timeline.Near(2460, StateOf(p).Groups[e.GroupId!.Value].ExpectedTime);
    }

    [Fact]
    public void Timer_aggregates_a_partial_group_and_a_late_update_waits_for_the_next_group()
    {
        var p = Policy();
        p.ClientReady("A", 0);
        p.ClientReady("B", 0);
        p.Arrive("A", 100);                  // v1; group 1: T_exp 200, T_max 250 (as in the first timeline)
        p.Arrive("B", 120, samples: 30);     // v2; B joins group 1 with 66 steps (s_B = 1.2)

        // t=200: A arrives and waits for B.
        Assert.Equal(["A"], p.Arrive("A", 200).Waiting);

        // t=250: group 1's T_max passes. It is aggregated with A alone: A started at v1, V = 2, staleness 1; N = 10 + 30:
        // weight 0.9·2^−0.5·10/40 = 0.159099 → v3. B missed a deadline (1 of k = 3); its next is 250 + 1.5·(66·1.2) = 368.8.
        // A is re-assigned: no group is left, so Q_max: group 2, T_exp 350, T_max 400.
        var d = p.TimerFired(250);
        var partial = d.SingleAggregation();
        Assert.Equal((3L, 1L), (partial.NewVersion, partial.GroupId!.Value));
        Timeline.Near(0.159099, Assert.Single(partial.Updates).Weight);
        var a = d.Single("A");
        Assert.Equal((100, 3L, 2L), (a.LocalSteps, a.StartVersion, a.GroupId!.Value));
        Assert.Equal(1, p.State.Clients["B"].MissedDeadlines);
        Timeline.Near(368.8, p.NextDeadline!.Value);

        // t=300: B arrives after its T_max: 66 steps in 180 s = 2.727273; s_B = 0.1·1.2 + 0.9·2.727273 = 2.574545.
        // Its update is held; it gets a task at once. Join group 2: ⌊(350 − 300)/2.574545⌋ = 19 < Q_min.
        // Create over group 2 (T_max 400, f = 1.0): ⌊(400 + 100 − 300)/2.574545⌋ = ⌊77.7⌋ = 77.
        // Group 3: T_exp = 300 + 77·2.574545 = 498.24, T_max = 300 + 1.5·198.24 = 597.36.
        d = p.Arrive("B", 300, samples: 30);
        Assert.Empty(d.Aggregations);
        var b = d.Single("B");
        Assert.Equal((77, 3L, 3L), (b.LocalSteps, b.StartVersion, b.GroupId!.Value));
        Timeline.Near(597.36, b.Deadline!.Value);
        Timeline.Near(498.24, StateOf(p).Groups[3].ExpectedTime);
        Assert.Single(StateOf(p).Held);
        Assert.Equal(400, p.NextDeadline);

        // t=350: A completes group 2, aggregated with B's held update → v4. A started at v3 (staleness 0, 10 of N = 40),
        // B at v2 (staleness 1, 30 of 40): weights 0.9·1·0.25 = 0.225 and 0.9·2^−0.5·0.75 = 0.477297 (the whole
        // federation is in this aggregation, so its weights are those of batch weighting).
        d = p.Arrive("A", 350);
        var next = d.SingleAggregation();
        Assert.Equal((4L, 2L), (next.NewVersion, next.GroupId!.Value));
        Timeline.Near(0.225, next.Update("A").Weight);
        Assert.Equal(1, next.Update("B").Staleness);
        Timeline.Near(0.477297, next.Update("B").Weight);
        Assert.Empty(StateOf(p).Held);
    }

    [Fact]
    public void Missing_k_deadlines_in_a_row_marks_a_client_unavailable_until_it_asks_again()
    {
        var p = Policy(new FedCompassOptions { MaxMissedDeadlines = 2 });
        p.ClientReady("A", 0);
        p.ClientReady("B", 0);
        p.Arrive("A", 100);                  // group 1: T_exp 200, T_max 250
        p.Arrive("B", 120);                  // joins group 1 with 66 steps (task 4), s_B = 1.2
        var lateTask = p.OpenTask("B").TaskId;
        p.Arrive("A", 200);                  // waits

        // t=250: group 1 closes without B (miss 1 of 2); B's next deadline 250 + 1.5·66·1.2 = 368.8. A: group 2 (350/400).
        Assert.Empty(p.TimerFired(250).Unavailable);

        // t=350: A alone completes group 2 → v4; no group is left, so Q_max again: group 3, T_exp 450, T_max 500.
        var a = p.Arrive("A", 350).Single("A");
        Assert.Equal(500, a.Deadline);

        // t=368.8: B misses its second deadline in a row: unavailable, task withdrawn.
        var d = p.TimerFired(368.8);
        Assert.Equal(["B"], d.Unavailable);
        Assert.Equal([lateTask], d.Cancelled);
        Assert.False(p.State.Clients["B"].Available);
        Assert.Equal(500, p.NextDeadline);

        // t=400: B's update for the withdrawn task is refused, not aggregated.
        d = p.UpdateArrived(new UpdateReport("B", lateTask, 400, 10));
        Assert.Empty(d.Aggregations);
        Assert.Equal(lateTask, Assert.Single(d.Rejected).TaskId);

        // t=410: B asks again and is back, its speed still 1.2: join group 3, ⌊(450 − 410)/1.2⌋ = 33 steps.
        var again = p.ClientReady("B", 410).Single("B");
        Assert.Equal((33, 3L), (again.LocalSteps, again.GroupId!.Value));
        Assert.True(p.State.Clients["B"].Available);
        Assert.Equal(0, p.State.Clients["B"].MissedDeadlines);
    }

    [Fact]
    public void A_timer_reported_late_still_counts_every_deadline_passed_in_order()
    {
        var p = Policy();
        p.ClientReady("A", 0);
        p.ClientReady("B", 0);
        p.Arrive("A", 100);                  // group 1: T_exp 200, T_max 250
        p.Arrive("B", 120);                  // joins group 1 with 66 steps at 1.2 s/step: λ × task time = 1.5·79.2 = 118.8
        p.Arrive("A", 200);                  // waits

        // Nothing wakes the policy until 500. By then group 1 closed (250) and B missed 250, 368.8 and 487.6:
        // three in a row (k = 3), so it is unavailable. A is re-assigned now: Q_max, T_max = 500 + 150 = 650.
        var d = p.TimerFired(500);
        Assert.Equal(3, d.SingleAggregation().NewVersion);
        Assert.Equal(["B"], d.Unavailable);
        Assert.Equal(3, p.State.Clients["B"].MissedDeadlines);
        Assert.Equal(650, d.Single("A").Deadline);
        Assert.Equal(650, p.NextDeadline);
    }

    [Fact]
    public void A_lost_client_leaves_its_group_which_dissolves_when_empty()
    {
        var p = Policy();
        p.ClientReady("A", 0);
        p.ClientReady("B", 0);
        p.Arrive("A", 100);                  // group 1, task 3
        p.Arrive("B", 120);                  // joins group 1, task 4

        var d = p.ClientLost("A", 150);
        Assert.Equal([3L], d.Cancelled);
        Assert.Equal(["B"], StateOf(p).Groups[1].Pending);

        // The last member is gone and nobody had arrived: group 1 dissolves without an aggregation.
        d = p.ClientLost("B", 160);
        Assert.Empty(d.Aggregations);
        Assert.Empty(StateOf(p).Groups);
        Assert.Null(p.NextDeadline);
        Assert.Equal(2, p.Version);
    }

    [Fact]
    public void Losing_the_last_missing_member_aggregates_those_who_arrived()
    {
        var p = Policy();
        p.ClientReady("A", 0);
        p.ClientReady("B", 0);
        p.Arrive("A", 100);
        p.Arrive("B", 120);
        p.Arrive("A", 200);                  // waits for B

        // B is lost at 210: group 1 is aggregated with A alone (staleness 2 − 1 = 1, N = 10 + 10 → 0.636396·0.5 = 0.318198) into v3,
        // and A, the only one left, gets Q_max: group 2, T_exp 310, T_max 360.
        var d = p.ClientLost("B", 210);
        var order = d.SingleAggregation();
        Assert.Equal(3, order.NewVersion);
        Timeline.Near(0.318198, order.Update("A").Weight);
        var a = d.Single("A");
        Assert.Equal((100, 360.0), (a.LocalSteps, a.Deadline!.Value));
    }

    [Fact]
    public void Reported_compute_time_is_told_apart_from_network_time()
    {
        var p = Policy();
        p.ClientReady("A", 0);
        p.ClientReady("B", 0);

        // A: 100 steps at a reported 1.0 s/step, back after 110 s: network 10 s.
        // Group 1: T_exp = 110 + 100·1.0 + 10 = 220, T_max = 110 + 1.5·110 = 275.
        var a = p.Arrive("A", 110, computePerStep: 1.0).Single("A");
        Assert.Equal(275, a.Deadline);
        Assert.Equal(220, StateOf(p).Groups[1].ExpectedTime);

        // B: 100 steps at a reported 1.2 s/step, back after 150 s: network 30 s.
        // Join group 1: ⌊(220 − 150 − 30)/1.2⌋ = ⌊33.3⌋ = 33 (without the network time it would be 58).
        var b = p.Arrive("B", 150, computePerStep: 1.2).Single("B");
        Assert.Equal((33, 1L), (b.LocalSteps, b.GroupId!.Value));
        var record = p.State.Clients["B"];
        Assert.Equal((1.2, 30.0, 1.2), (record.SecondsPerStep!.Value, record.NetworkSeconds, record.ReportedComputeSecondsPerStep!.Value));
    }
}
