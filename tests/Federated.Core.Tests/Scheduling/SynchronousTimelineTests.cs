using Federated.Core.Scheduling;

namespace Federated.Core.Tests.Scheduling;

public class SynchronousTimelineTests
{
    [Fact]
    public void Rounds_close_when_full_or_at_the_deadline_with_quorum()
    {
        var p = new SynchronousOptions { ClientsPerRound = 3, MinQuorum = 2, LocalSteps = 10, RoundDeadlineSeconds = 100 }.CreatePolicy();

        // t=0: A, B, C fill round 1 (deadline 0 + 100); D waits for a place.
        foreach (var client in new[] { "A", "B", "C" })
            Assert.Equal(100, p.ClientReady(client, 0).Single(client).Deadline);
        Assert.Equal(["D"], p.ClientReady("D", 0).Waiting);

        // A (20 samples) and B (20) wait; C (60) fills the round: v1 with sample shares 20/100, 20/100, 60/100.
        Assert.Equal(["A"], p.Arrive("A", 10, samples: 20).Waiting);
        Assert.Equal(["B"], p.Arrive("B", 20, samples: 20).Waiting);
        var d = p.Arrive("C", 30, samples: 60);
        var round1 = d.SingleAggregation();
        Assert.Equal(1, round1.NewVersion);
        Timeline.Near(0.2, round1.Update("A").Weight);
        Timeline.Near(0.2, round1.Update("B").Weight);
        Timeline.Near(0.6, round1.Update("C").Weight);

        // Round 2 goes to the queue in order D (asked at 0), A (10), B (20); C waits. Deadline 30 + 100 = 130.
        Assert.Equal(["D", "A", "B"], d.Assignments.Select(a => a.ClientId));
        Assert.All(d.Assignments, a => Assert.Equal((1L, 130.0), (a.StartVersion, a.Deadline!.Value)));
        Assert.Equal(["C"], d.Waiting);

        // D (10 samples) and A (30) are in; B never returns. At 130 the quorum of 2 is in: v2 with shares 0.25 and 0.75,
        // B's task is withdrawn, and round 3 goes to C, D, A.
        var bTask = p.OpenTask("B").TaskId;
        p.Arrive("D", 40, samples: 10);
        p.Arrive("A", 50, samples: 30);
        d = p.TimerFired(130);
        var round2 = d.SingleAggregation();
        Assert.Equal(2, round2.NewVersion);
        Timeline.Near(0.25, round2.Update("D").Weight);
        Timeline.Near(0.75, round2.Update("A").Weight);
        Assert.Equal([bTask], d.Cancelled);
        Assert.Equal(["C", "D", "A"], d.Assignments.Select(a => a.ClientId));
        Assert.Equal(230, p.NextDeadline);

        // B's update for the withdrawn task is refused; when B asks again the round is full, so it waits.
        Assert.Single(p.UpdateArrived(new UpdateReport("B", bTask, 140, 10)).Rejected);
        Assert.Equal(["B"], p.ClientReady("B", 140).Waiting);
    }

    [Fact]
    public void A_deadline_without_quorum_reopens_places_and_never_waits_forever()
    {
        var p = new SynchronousOptions { ClientsPerRound = 2, MinQuorum = 2, LocalSteps = 10, RoundDeadlineSeconds = 100 }.CreatePolicy();
        p.ClientReady("A", 0);
        var bTask = p.ClientReady("B", 0).Single("B").TaskId;
        Assert.Equal(["C"], p.ClientReady("C", 0).Waiting);
        p.Arrive("A", 10);

        // t=100: only 1 of 2 updates: no aggregation; B's task is withdrawn and its place goes to C, deadline 200.
        var d = p.TimerFired(100);
        Assert.Empty(d.Aggregations);
        Assert.Equal([bTask], d.Cancelled);
        Assert.Equal(200, d.Single("C").Deadline);

        // t=200: C has not returned either: withdrawn; nobody is left to ask, so no deadline until someone does.
        d = p.TimerFired(200);
        Assert.Empty(d.Aggregations);
        Assert.Single(d.Cancelled);
        Assert.Null(p.NextDeadline);

        // t=250: B asks again and gets the free place with a fresh deadline 350; its update completes the round.
        Assert.Equal(350, p.ClientReady("B", 250).Single("B").Deadline);
        var round = p.Arrive("B", 260).SingleAggregation();
        Assert.Equal(1, round.NewVersion);
        Assert.Equal(["A", "B"], round.Updates.Select(u => u.ClientId).Order());
    }
}
