using Federated.Core.Adapters;
using Federated.Core.Aggregation;

namespace Federated.Core.Tests.Aggregation;

public class StackingStrategyTests
{
    private static readonly int[] Ranks = [2, 4, 8, 16];

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void Stacking_is_exact_for_mixed_ranks_and_random_weights(ulong seed)
    {
        var random = new Random((int)seed);
        var inputs = Ranks.Select((rank, k) => new WeightedAdapter(
            RandomAdapters.Create(rank, scale: 0.5 + random.NextDouble() * 2, seed * 100 + (ulong)k),
            Weight: 1 + random.Next(1000),
            Source: $"client {k}")).ToList();
        var weights = AggregationWeights.Normalise(inputs);

        var stacked = StackingStrategy.Stack(inputs);

        Assert.Equal(1.0, stacked.Scale);
        foreach (var (module, _, _) in RandomAdapters.Shapes)
        {
            Assert.Equal(Ranks.Sum(), stacked[module].Rank);
            var expected = AdapterMath.WeightedSum(inputs.Select((input, k) => (AdapterMath.Delta(input.Adapter[module], input.Adapter.Scale), weights[k])));
            var actual = AdapterMath.Delta(stacked[module], stacked.Scale);
            Assert.True(AdapterMath.RelativeError(actual, expected) < 1e-6, $"{module}: stacked product differs from Σ p_k s_k B_k A_k");
        }
    }

    [Fact]
    public void Averaging_A_and_B_separately_is_not_the_average_of_the_updates()
    {
        // Equal ranks, so separate averaging (FedIT) is at least defined; it is still wrong.
        var inputs = Enumerable.Range(0, 4).Select(k => new WeightedAdapter(RandomAdapters.Create(8, 1.0, 50 + (ulong)k), 1, $"client {k}")).ToList();
        var module = RandomAdapters.Shapes[0].Module;
        var expected = AdapterMath.WeightedSum(inputs.Select(i => (AdapterMath.Delta(i.Adapter[module], 1.0), 0.25)));

        var meanA = Mean(inputs.Select(i => i.Adapter[module].A));
        var meanB = Mean(inputs.Select(i => i.Adapter[module].B));
        var separate = AdapterMath.Delta(new LoraFactors(meanA, meanB), 1.0);
        var stacked = AdapterMath.Delta(StackingStrategy.Stack(inputs)[module], 1.0);

        Assert.True(AdapterMath.RelativeError(separate, expected) > 0.3, "mean(B)·mean(A) should be far from mean(B·A)");
        Assert.True(AdapterMath.RelativeError(stacked, expected) < 1e-6);
    }

    [Fact]
    public void Stacking_one_adapter_keeps_its_update()
    {
        var adapter = RandomAdapters.Create(4, 2.0, 7);
        var stacked = StackingStrategy.Stack([new WeightedAdapter(adapter, 10, "only")]);
        foreach (var module in adapter.ModuleNames)
            Assert.True(AdapterMath.RelativeError(AdapterMath.Delta(stacked[module], 1.0), AdapterMath.Delta(adapter[module], 2.0)) < 1e-6);
    }

    [Fact]
    public void A_module_missing_from_one_adapter_is_refused_by_name()
    {
        var full = RandomAdapters.Create(4, 1.0, 1);
        var partial = new LoraAdapter(full.Modules.Where(m => m.Key != RandomAdapters.Shapes[1].Module), 1.0);
        var error = Assert.Throws<AdapterFormatException>(() => StackingStrategy.Stack([new(full, 1, "client a"), new(partial, 1, "client b")]));
        Assert.Contains(RandomAdapters.Shapes[1].Module, error.Message);
        Assert.Contains("client b", error.Message);
    }

    [Fact]
    public void Mismatched_layer_shapes_are_refused_by_name()
    {
        var a = RandomAdapters.Create(4, 1.0, 1);
        var module = RandomAdapters.Shapes[0].Module;
        var wrong = new LoraAdapter(a.Modules.Select(m => m.Key == module ? new KeyValuePair<string, LoraFactors>(m.Key, new LoraFactors(new Matrix(4, 10), new Matrix(48, 4))) : m), 1.0);
        var error = Assert.Throws<AdapterFormatException>(() => StackingStrategy.Stack([new(a, 1, "client a"), new(wrong, 1, "client b")]));
        Assert.Contains(module, error.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Weights_must_be_finite_and_positive(double weight)
    {
        var adapter = RandomAdapters.Create(2, 1.0, 3);
        var error = Assert.Throws<ArgumentException>(() => StackingStrategy.Stack([new(adapter, 1, "a"), new(adapter, weight, "client b")]));
        Assert.Contains("client b", error.Message);
    }

    private static Matrix Mean(IEnumerable<Matrix> matrices)
    {
        var list = matrices.ToList();
        var mean = new Matrix(list[0].Rows, list[0].Columns);
        foreach (var m in list)
            for (int i = 0; i < m.Data.Length; i++)
                mean.Data[i] += m.Data[i] / list.Count;
        return mean;
    }
}
