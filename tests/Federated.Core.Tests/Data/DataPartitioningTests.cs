using Federated.Core.Data;
using Federated.Core.Randomness;

namespace Federated.Core.Tests.Data;

public class DataPartitioningTests
{
    private static readonly IReadOnlyList<(int Id, string Label)> Labelled
        = Enumerable.Range(0, 2000).Select(i => (i, $"c{i % 10}")).ToList();

    [Fact]
    public void Dirichlet_partitions_assign_every_item_once_and_repeat_under_a_seed()
    {
        var shards = DataPartitioning.Dirichlet(Labelled, x => x.Label, 8, 0.5, 3);
        Assert.Equal(8, shards.Count);
        Assert.Equal(Labelled.Select(x => x.Id), shards.SelectMany(s => s).Select(x => x.Id).Order());
        var again = DataPartitioning.Dirichlet(Labelled, x => x.Label, 8, 0.5, 3);
        Assert.Equal(shards.Select(s => s.Select(x => x.Id)), again.Select(s => s.Select(x => x.Id)));
        var other = DataPartitioning.Dirichlet(Labelled, x => x.Label, 8, 0.5, 4);
        Assert.NotEqual(shards.Select(s => s.Count), other.Select(s => s.Count));
    }

    [Fact]
    public void Small_alpha_gives_clients_fewer_labels_than_large_alpha()
    {
        double MeanEntropy(double alpha) => DataPartitioning.Dirichlet(Labelled, x => x.Label, 10, alpha, 11)
            .Where(s => s.Count > 0)
            .Average(s => Entropy(s.GroupBy(x => x.Label).Select(g => (double)g.Count() / s.Count)));
        var skewed = MeanEntropy(0.1);
        var balanced = MeanEntropy(100);
        // Ten equally likely labels have entropy ln 10 ≈ 2.30.
        Assert.InRange(balanced, 2.2, Math.Log(10));
        Assert.True(skewed < balanced - 1, $"entropy with α=0.1 was {skewed:F2}, with α=100 {balanced:F2}");
    }

    [Fact]
    public void Dirichlet_redraws_until_every_client_has_its_minimum()
    {
        var shards = DataPartitioning.Dirichlet(Labelled, x => x.Label, 10, 0.1, 5, minPerClient: 20);
        Assert.All(shards, s => Assert.True(s.Count >= 20));
        Assert.Contains("raise α or lower the minimum", Assert.Throws<ArgumentException>(() => DataPartitioning.Dirichlet(Labelled, x => x.Label, 10, 0.01, 5, minPerClient: 199)).Message);
    }

    [Fact]
    public void Quantity_skew_sizes_vary_with_alpha_and_respect_the_minimum()
    {
        var items = Enumerable.Range(0, 1000).ToList();
        var skewed = DataPartitioning.QuantitySkew(items, 10, 0.2, 7, minPerClient: 5);
        Assert.Equal(items, skewed.SelectMany(s => s).Order());
        Assert.All(skewed, s => Assert.True(s.Count >= 5));
        Assert.Equal(skewed.Select(s => s.ToArray()), DataPartitioning.QuantitySkew(items, 10, 0.2, 7, minPerClient: 5).Select(s => s.ToArray()));
        var even = DataPartitioning.QuantitySkew(items, 10, 1000, 7, minPerClient: 5);
        Assert.True(Spread(skewed) > 3 * Spread(even), $"size spread with α=0.2 was {Spread(skewed):F1}, with α=1000 {Spread(even):F1}");
    }

    [Fact]
    public void Power_law_sizes_fall_with_the_client_index()
    {
        var items = Enumerable.Range(0, 1000).ToList();
        var shards = DataPartitioning.PowerLaw(items, 4, 1.0, 1, minPerClient: 10);
        Assert.Equal(items, shards.SelectMany(s => s).Order());
        // 960 items above the minimum in shares 1 : 1/2 : 1/3 : 1/4 (of 25/12): 460.8, 230.4, 153.6, 115.2.
        Assert.Equal([471, 240, 164, 125], shards.Select(s => s.Count));
    }

    [Fact]
    public void Bad_parameters_are_refused()
    {
        var items = Enumerable.Range(0, 10).ToList();
        Assert.Throws<ArgumentOutOfRangeException>(() => DataPartitioning.Dirichlet(items, i => "", 2, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DataPartitioning.Dirichlet(items, i => "", 2, double.NaN, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DataPartitioning.QuantitySkew(items, 0, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DataPartitioning.QuantitySkew(items, 2, 1, 1, minPerClient: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DataPartitioning.PowerLaw(items, 2, -1, 1));
        Assert.Contains("need 12 items, but there are 10", Assert.Throws<ArgumentException>(() => DataPartitioning.QuantitySkew(items, 4, 1, 1, minPerClient: 3)).Message);
    }

    [Fact]
    public void Gamma_draws_have_the_right_mean_and_variance()
    {
        foreach (var shape in new[] { 0.3, 1.0, 4.5 })
        {
            var random = new DeterministicRandom(42);
            var draws = Enumerable.Range(0, 40000).Select(_ => random.NextGamma(shape)).ToArray();
            var mean = draws.Average();
            var variance = draws.Average(d => (d - mean) * (d - mean));
            // Gamma(k, 1) has mean k and variance k; 40,000 draws pin both to within a few percent.
            Assert.InRange(mean, shape * 0.97, shape * 1.03);
            Assert.InRange(variance, shape * 0.9, shape * 1.1);
        }
    }

    private static double Entropy(IEnumerable<double> p) => -p.Where(x => x > 0).Sum(x => x * Math.Log(x));

    private static double Spread(IReadOnlyList<IReadOnlyList<int>> shards)
    {
        var mean = shards.Average(s => s.Count);
        return Math.Sqrt(shards.Average(s => (s.Count - mean) * (s.Count - mean)));
    }
}
