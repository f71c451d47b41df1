using Federated.Core.Scheduling;

namespace Federated.Core.Tests.Scheduling;

public class AsynchronousTimelineTests
{
    [Fact]
    public void FedAsync_applies_each_update_with_alpha_times_polynomial_staleness()
    {
        var p = new FedAsyncOptions { LocalSteps = 5 }.CreatePolicy();
        foreach (var client in new[] { "A", "B", "C" })
        {
            var task = p.ClientReady(client, 0).Single(client);
            Assert.Equal((5, 0L), (task.LocalSteps, task.StartVersion));
        }

        // A at 10: staleness 0 → 0.9·1 = 0.9, v1; A starts again from v1.
        var d = p.Arrive("A", 10);
        Timeline.Near(0.9, d.SingleAggregation().Update("A").Weight);
        Assert.Equal(1, d.Single("A").StartVersion);

        // B at 20: started at v0, V = 1: staleness 1 → 0.9·2^−0.5 = 0.636396, v2.
        Timeline.Near(0.636396, p.Arrive("B", 20).SingleAggregation().Update("B").Weight);

        // A at 30: started at v1, V = 2: staleness 1 → 0.636396, v3.
        Timeline.Near(0.636396, p.Arrive("A", 30).SingleAggregation().Update("A").Weight);

        // C at 40: started at v0, V = 3: staleness 3 → 0.9·4^−0.5 = 0.45, v4.
        var c = p.Arrive("C", 40).SingleAggregation();
        Assert.Equal((4L, 3L), (c.NewVersion, c.Update("C").Staleness));
        Timeline.Near(0.45, c.Update("C").Weight);
    }

    [Fact]
    public void FedBuff_applies_every_K_arrivals_weighted_by_sample_share_and_staleness()
    {
        var p = new FedBuffOptions { BufferSize = 3, LocalSteps = 5 }.CreatePolicy();
        foreach (var client in new[] { "A", "B", "C", "D" })
            p.ClientReady(client, 0);

        // Arrivals 1 and 2 are buffered; their clients start again from v0 at once.
        var d = p.Arrive("A", 10, samples: 10);
        Assert.Empty(d.Aggregations);
        Assert.Equal(0, d.Single("A").StartVersion);
        Assert.Empty(p.Arrive("B", 20, samples: 30).Aggregations);

        // Arrival 3: v1 from shares 10/100, 30/100, 60/100, all staleness 0.
        var first = p.Arrive("C", 30, samples: 60).SingleAggregation();
        Assert.Equal(1, first.NewVersion);
        Timeline.Near(0.1, first.Update("A").Weight);
        Timeline.Near(0.3, first.Update("B").Weight);
        Timeline.Near(0.6, first.Update("C").Weight);

        // D (20 samples, from v0) and A (20, from v0) have staleness 1, C (40, from v1) staleness 0:
        // shares 0.25, 0.25, 0.5 → weights 0.25·2^−0.5 = 0.176777, 0.176777 and 0.5.
        p.Arrive("D", 40, samples: 20);
        p.Arrive("A", 50, samples: 20);
        var second = p.Arrive("C", 60, samples: 40).SingleAggregation();
        Assert.Equal(2, second.NewVersion);
        Timeline.Near(0.176777, second.Update("D").Weight);
        Timeline.Near(0.176777, second.Update("A").Weight);
        Timeline.Near(0.5, second.Update("C").Weight);
    }

    [Fact]
    public void FedBuff_without_discount_uses_plain_sample_shares()
    {
        var p = new FedBuffOptions { BufferSize = 2, DiscountStaleness = false }.CreatePolicy();
        p.ClientReady("A", 0);
        p.ClientReady("B", 0);
        p.Arrive("A", 1, samples: 10);
        p.Arrive("B", 2, samples: 30);      // v1
        p.Arrive("B", 3, samples: 30);      // from v1, staleness 0
        var order = p.Arrive("A", 4, samples: 10).SingleAggregation(); // A from v0, staleness 1: still just its share
        Assert.Equal(1, order.Update("A").Staleness);
        Timeline.Near(0.25, order.Update("A").Weight);
        Timeline.Near(0.75, order.Update("B").Weight);
    }
}
