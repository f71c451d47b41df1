using Federated.Core.Adapters;
using Federated.Core.Tests.Aggregation;

namespace Federated.Core.Tests.Adapters;

public class AdapterComparisonTests
{
    [Fact]
    public void Gram_based_difference_matches_the_dense_one()
    {
        var a = RandomAdapters.Create(3, 1.5, 1);
        var b = RandomAdapters.Create(5, 0.5, 2);
        foreach (var difference in AdapterComparison.Diff(a, b))
        {
            var dense = AdapterMath.RelativeError(AdapterMath.Delta(a[difference.Module], 1.5), AdapterMath.Delta(b[difference.Module], 0.5));
            Assert.Equal(dense, difference.RelativeError, 6);
        }
        Assert.All(AdapterComparison.Diff(a, a), d => Assert.True(d.RelativeError < 1e-6));
    }

    [Fact]
    public void Hand_worked_difference()
    {
        // ΔW_a = 2·[1;0]·[1 0] = [[2,0],[0,0]], ΔW_b = [[1,0],[0,0]]: ‖ΔW_a − ΔW_b‖ / ‖ΔW_b‖ = 1.
        LoraAdapter Make(double scale) => new([new("m", new LoraFactors(new Matrix(1, 2, [1, 0]), new Matrix(2, 1, [1, 0])))], scale);
        var difference = Assert.Single(AdapterComparison.Diff(Make(2), Make(1)));
        Assert.Equal(1.0, difference.RelativeError, 9);
        Assert.Equal(2.0, difference.NormA, 9);
    }

    [Fact]
    public void Mismatched_modules_are_named()
    {
        var a = RandomAdapters.Create(2, 1, 1);
        var module = RandomAdapters.Shapes[1].Module;
        var b = new LoraAdapter(a.Modules.Where(m => m.Key != module), 1);
        Assert.Contains($"module '{module}' is in A but not in B", Assert.Throws<AdapterFormatException>(() => AdapterComparison.Diff(a, b, "A", "B")).Message);
        Assert.Contains($"module '{module}' is in A but not in B", Assert.Throws<AdapterFormatException>(() => AdapterComparison.Diff(b, a, "B", "A")).Message);
    }
}
