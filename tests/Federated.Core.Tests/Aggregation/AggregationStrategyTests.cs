using Federated.Core.Adapters;
using Federated.Core.Aggregation;

namespace Federated.Core.Tests.Aggregation;

/// <summary>Every strategy against the exact weighted mean Σ p_k s_k B_k A_k on known matrices.</summary>
public class AggregationStrategyTests
{
    private static readonly string Module = RandomAdapters.Shapes[0].Module;

    [Fact]
    public void Each_name_creates_its_strategy_and_unknown_names_are_refused_with_the_list()
    {
        foreach (var name in AggregationStrategies.Names)
            Assert.Equal(name, AggregationStrategies.Create(name).Name);
        var error = Assert.Throws<ArgumentException>(() => AggregationStrategies.Create("fedavg"));
        Assert.Contains("'fedavg'", error.Message);
        Assert.Contains("stacking, fedit, zero-padding, flexlora", error.Message);
    }

    [Fact]
    public void Hand_worked_rank_one_example_shows_what_each_strategy_does()
    {
        // Two 1×1... rank-1 updates on a 2×2 layer with equal weights:
        //   ΔW_1 = [1;0]·[1 0] = [[1,0],[0,0]],  ΔW_2 = [0;1]·[0 1] = [[0,0],[0,1]].
        // Exact mean: [[.5,0],[0,.5]]. FedIT: mean(B)·mean(A) = [.5;.5]·[.5 .5] = [[.25,.25],[.25,.25]].
        var first = Single(a: [1, 0], b: [1, 0]);
        var second = Single(a: [0, 1], b: [0, 1]);
        WeightedAdapter[] inputs = [new(first, 1, "one"), new(second, 1, "two")];

        var stacked = Delta(AggregationStrategies.Create(AggregationStrategies.Stacking).Aggregate(inputs, [1]).Global);
        var fedit = Delta(AggregationStrategies.Create(AggregationStrategies.FedIt).Aggregate(inputs, [1]).Global);

        Assert.Equal(new double[,] { { 0.5, 0 }, { 0, 0.5 } }, stacked);
        Assert.Equal(new double[,] { { 0.25, 0.25 }, { 0.25, 0.25 } }, fedit);

        // FlexLoRA's rank-1 view keeps the larger singular direction: σ = (.5, .5) tie, so one of the two
        // diagonal entries survives and the relative error is 1/√2.
        var flexView = Delta(AggregationStrategies.Create(AggregationStrategies.FlexLora).Aggregate(inputs, [1]).For(1));
        Assert.Equal(Math.Sqrt(0.5), AdapterMath.RelativeError(flexView, stacked), 6);
    }

    [Fact]
    public void Stacking_is_exact_and_every_client_gets_the_global_update()
    {
        var inputs = Mixed(out var expected);
        var outcome = new StackingStrategy().Aggregate(inputs, [4, 8, 16]);
        Assert.True(AdapterMath.RelativeError(Delta(outcome.Global), expected) < 1e-6);
        Assert.Empty(outcome.ClientViews);
        Assert.Same(outcome.Global, outcome.For(4));
    }

    [Fact]
    public void FedIT_refuses_mixed_ranks_naming_the_module_and_clients()
    {
        var inputs = Mixed(out _);
        var error = Assert.Throws<AdapterFormatException>(() => new FedItStrategy().Aggregate(inputs, [4]));
        Assert.Contains("equal ranks", error.Message);
        Assert.Contains(Module, error.Message);
        Assert.Contains("client 1", error.Message);
    }

    [Fact]
    public void FedIT_with_equal_ranks_is_defined_but_far_from_the_exact_mean()
    {
        var inputs = Enumerable.Range(0, 4).Select(k => new WeightedAdapter(RandomAdapters.Create(8, 1.5, 200 + (ulong)k), 1 + k, $"client {k}")).ToList();
        var expected = ExactMean(inputs);
        var fedit = Delta(new FedItStrategy().Aggregate(inputs, [8]).Global);
        var stacked = Delta(new StackingStrategy().Aggregate(inputs, [8]).Global);
        Assert.True(AdapterMath.RelativeError(fedit, expected) > 0.3);
        Assert.True(AdapterMath.RelativeError(stacked, expected) < 1e-6);
    }

    [Fact]
    public void Zero_padding_averages_at_the_largest_rank_and_truncates_per_client()
    {
        var inputs = Mixed(out var expected);
        var outcome = new ZeroPaddingStrategy().Aggregate(inputs, [4, 8, 16]);

        Assert.Equal(16, outcome.Global[Module].Rank);
        Assert.Equal(4, outcome.For(4)[Module].Rank);
        Assert.Equal(8, outcome.For(8)[Module].Rank);
        Assert.Same(outcome.Global, outcome.For(16));
        // The padded average keeps cross terms: far from the exact mean; a truncated view loses more still.
        var globalError = AdapterMath.RelativeError(Delta(outcome.Global), expected);
        var viewError = AdapterMath.RelativeError(Delta(outcome.For(4)), expected);
        Assert.True(globalError > 0.3, $"zero-padding error {globalError}");
        Assert.True(viewError > globalError * 0.99, $"rank-4 view error {viewError} vs global {globalError}");

        // Hand check of the padding: with one client the padded average is its own factors.
        var single = new ZeroPaddingStrategy().Aggregate([inputs[0]], [inputs[0].Adapter.Rank]);
        Assert.True(AdapterMath.RelativeError(Delta(single.Global), AdapterMath.Delta(inputs[0].Adapter[Module], inputs[0].Adapter.Scale)) < 1e-6);
    }

    [Fact]
    public void FlexLoRA_global_is_exact_and_each_view_is_the_best_rank_r_approximation()
    {
        var inputs = Mixed(out var expected);
        var outcome = new FlexLoraStrategy().Aggregate(inputs, [4, 8]);
        Assert.True(AdapterMath.RelativeError(Delta(outcome.Global), expected) < 1e-6);

        var singular = SingularValues(expected);
        foreach (var rank in new[] { 4, 8 })
        {
            var view = outcome.For(rank);
            Assert.Equal(rank, view[Module].Rank);
            // Eckart–Young: the truncated SVD's error is exactly the tail of the singular values.
            var optimal = Math.Sqrt(singular.Skip(rank).Sum(s => s * s) / singular.Sum(s => s * s));
            Assert.Equal(optimal, AdapterMath.RelativeError(Delta(view), expected), 4);
        }
    }

    [Fact]
    public void Absolute_weights_are_normalised_weights_scaled_by_their_sum()
    {
        // FedAsync-style weights 0.3 and 0.15 (sum 0.45): the update is 0.3 ΔW_1 + 0.15 ΔW_2.
        var first = RandomAdapters.Create(2, 1.0, 1);
        var second = RandomAdapters.Create(4, 2.0, 2);
        var outcome = new ZeroPaddingStrategy().Aggregate([new(first, 0.3, "a"), new(second, 0.15, "b")], [2]).Scaled(0.45);
        var stacked = new StackingStrategy().Aggregate([new(first, 0.3, "a"), new(second, 0.15, "b")], [2]).Scaled(0.45);
        var expected = AdapterMath.WeightedSum([(AdapterMath.Delta(first[Module], 1.0), 0.3), (AdapterMath.Delta(second[Module], 2.0), 0.15)]);
        Assert.True(AdapterMath.RelativeError(Delta(stacked.Global), expected) < 1e-6);
        Assert.Equal(0.45, outcome.Global.Scale, 12);
        Assert.Equal(0.45, outcome.For(2).Scale, 12);
        Assert.Throws<ArgumentException>(() => outcome.Scaled(0));
    }

    private static List<WeightedAdapter> Mixed(out double[,] expected)
    {
        var inputs = new[] { 4, 8, 16 }.Select((rank, k) => new WeightedAdapter(RandomAdapters.Create(rank, 0.5 + k, 100 + (ulong)k), 10 * (k + 1), $"client {k}")).ToList();
        expected = ExactMean(inputs);
        return inputs;
    }

    private static double[,] ExactMean(IReadOnlyList<WeightedAdapter> inputs)
    {
        var weights = AggregationWeights.Normalise(inputs);
        return AdapterMath.WeightedSum(inputs.Select((input, k) => (AdapterMath.Delta(input.Adapter[Module], input.Adapter.Scale), weights[k])));
    }

    private static double[,] Delta(LoraAdapter adapter) => AdapterMath.Delta(adapter[Module], adapter.Scale);

    private static LoraAdapter Single(float[] a, float[] b)
        => new([new(Module, new LoraFactors(new Matrix(1, 2, a), new Matrix(2, 1, b)))], 1.0);

    private static double[] SingularValues(double[,] matrix)
    {
        using var t = TorchSharp.torch.tensor(matrix.Cast<double>().ToArray(), [matrix.GetLength(0), matrix.GetLength(1)]);
        using var s = TorchSharp.torch.linalg.svdvals(t);
        return s.data<double>().ToArray();
    }
}
