using Federated.Core.Scheduling;

namespace Federated.Core.Tests.Scheduling;

public class AsynchronousTimelineTests
{
    [Fact]
    public void FedAsync_applies_each_update_with_alpha_times_polynomial_staleness_times_its_federation_share()
    {
        var p = new FedAsyncOptions { LocalSteps = 5 }.CreatePolicy();
        foreach (var client in new[] { "A", "B", "C" })
        {
            var task = p.ClientReady(client, 0).Single(client);
            Assert.Equal((5, 0L), (task.LocalSteps, task.StartVersion));
        }

        // Every update has 10 samples and B, C count at that mean before they report: N = 30, w_k = 1/3.
        // A at 10: staleness 0 → 0.9·1·(1/3) = 0.3, v1; A starts again from v1.
        var d = p.Arrive("A", 10);
        Timeline.Near(0.3, d.SingleAggregation().Update("A").Weight);
        Assert.Equal(1, d.Single("A").StartVersion);

        // B at 20: started at v0, V = 1: staleness 1 → 0.9·2^−0.5/3 = 0.636396/3 = 0.212132, v2.
        Timeline.Near(0.212132, p.Arrive("B", 20).SingleAggregation().Update("B").Weight);

        // A at 30: started at v1, V = 2: staleness 1 → 0.212132, v3.
        Timeline.Near(0.212132, p.Arrive("A", 30).SingleAggregation().Update("A").Weight);

        // C at 40: started at v0, V = 3: staleness 3 → 0.9·4^−0.5/3 = 0.45/3 = 0.15, v4.
        var c = p.Arrive("C", 40).SingleAggregation();
        Assert.Equal((4L, 3L), (c.NewVersion, c.Update("C").Staleness));
        Timeline.Near(0.15, c.Update("C").Weight);
    }

    [Fact]
    public void FedBuff_applies_every_K_arrivals_weighted_by_alpha_federation_sample_share_and_staleness()
    {
        var p = new FedBuffOptions { BufferSize = 3, LocalSteps = 5 }.CreatePolicy();
        foreach (var client in new[] { "A", "B", "C", "D" })
            p.ClientReady(client, 0);

        // Arrivals 1 and 2 are buffered; their clients start again from v0 at once.
        var d = p.Arrive("A", 10, samples: 10);
        Assert.Empty(d.Aggregations);
        Assert.Equal(0, d.Single("A").StartVersion);
        Assert.Empty(p.Arrive("B", 20, samples: 30).Aggregations);

        // Arrival 3: v1, all staleness 0. N = 10 + 30 + 60 + D at their mean 100/3 = 133.333:
        // weights 0.9·10/133.333 = 0.0675, 0.9·30/133.333 = 0.2025, 0.9·60/133.333 = 0.405.
        var first = p.Arrive("C", 30, samples: 60).SingleAggregation();
        Assert.Equal(1, first.NewVersion);
        Timeline.Near(0.0675, first.Update("A").Weight);
        Timeline.Near(0.2025, first.Update("B").Weight);
        Timeline.Near(0.405, first.Update("C").Weight);

        // D (20 samples, from v0) and A (20, from v0) have staleness 1, C (40, from v1) staleness 0. Last reports:
        // A 20, B 30, C 40, D 20: N = 110. Weights 0.9·2^−0.5·20/110 = 0.115708 (D and A) and 0.9·40/110 = 0.327273.
        p.Arrive("D", 40, samples: 20);
        p.Arrive("A", 50, samples: 20);
        var second = p.Arrive("C", 60, samples: 40).SingleAggregation();
        Assert.Equal(2, second.NewVersion);
        Timeline.Near(0.115708, second.Update("D").Weight);
        Timeline.Near(0.115708, second.Update("A").Weight);
        Timeline.Near(0.327273, second.Update("C").Weight);
    }

    [Fact]
    public void FedBuff_without_discount_uses_alpha_times_plain_federation_shares()
    {
        var p = new FedBuffOptions { BufferSize = 2, DiscountStaleness = false }.CreatePolicy();
        p.ClientReady("A", 0);
        p.ClientReady("B", 0);
        p.Arrive("A", 1, samples: 10);
        p.Arrive("B", 2, samples: 30);      // v1
        p.Arrive("B", 3, samples: 30);      // from v1, staleness 0
        var order = p.Arrive("A", 4, samples: 10).SingleAggregation(); // A from v0, staleness 1: still just α·its share
        Assert.Equal(1, order.Update("A").Staleness);
        Timeline.Near(0.225, order.Update("A").Weight); // 0.9·10/40
        Timeline.Near(0.675, order.Update("B").Weight); // 0.9·30/40
    }
}
