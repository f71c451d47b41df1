using Federated.Core.Adapters;
using Federated.Core.Aggregation;

namespace Federated.Core.Tests.Aggregation;

public class AdapterCompactionTests
{
    [Fact]
    public void Compacting_several_rounds_equals_their_sum_with_at_most_the_layer_rank()
    {
        // Five rounds of stacked rank 28 (ranks 4+8+16) on 48×48, 24×48 and 48×96 layers: Σ rank 140 > the
        // layers' own rank, so compaction must come out at most min(in, out) and exact.
        var rounds = Enumerable.Range(0, 5).Select(r => StackingStrategy.Stack(
            new[] { 4, 8, 16 }.Select((rank, k) => new WeightedAdapter(RandomAdapters.Create(rank, 2.0, (ulong)(1000 + 10 * r + k)), 1 + k, $"c{k}")).ToList())).ToList();

        var result = AdapterCompaction.Compact(rounds);

        foreach (var (module, inFeatures, outFeatures) in RandomAdapters.Shapes)
        {
            var expected = AdapterMath.WeightedSum(rounds.Select(u => (AdapterMath.Delta(u[module], u.Scale), 1.0)));
            var actual = AdapterMath.Delta(result.Adapter[module], result.Adapter.Scale);
            Assert.True(AdapterMath.RelativeError(actual, expected) < 1e-5, $"{module}: compacted sum differs");
            Assert.True(result.Adapter[module].Rank <= Math.Min(inFeatures, outFeatures), $"{module}: rank {result.Adapter[module].Rank}");
        }
        Assert.Equal(140, result.InputRank);
        Assert.True(result.MaxRelativeError < 1e-6);
    }

    [Fact]
    public void Low_rank_sums_compact_to_their_true_rank()
    {
        // The same rank-3 update sent in four rounds: its sum is still rank 3.
        var update = RandomAdapters.Create(3, 0.5, 9);
        var result = AdapterCompaction.Compact([update, update, update, update]);
        foreach (var module in update.ModuleNames)
        {
            Assert.Equal(3, result.Adapter[module].Rank);
            var expected = AdapterMath.Delta(update[module], 2.0); // 4 × 0.5
            Assert.True(AdapterMath.RelativeError(AdapterMath.Delta(result.Adapter[module], 1.0), expected) < 1e-5);
        }
    }

    [Fact]
    public void A_rank_budget_truncates_and_reports_the_exact_error()
    {
        var update = RandomAdapters.Create(16, 1.0, 4);
        var result = AdapterCompaction.Compact([update], new CompactionOptions(RankBudget: 5));
        foreach (var report in result.Modules)
        {
            Assert.Equal(16, report.InputRank);
            Assert.Equal(5, report.OutputRank);
            var expected = AdapterMath.Delta(update[report.Module], 1.0);
            var measured = AdapterMath.RelativeError(AdapterMath.Delta(result.Adapter[report.Module], 1.0), expected);
            Assert.Equal(measured, report.RelativeError, 4);
            Assert.True(report.RelativeError > 0.1);
        }
    }

    [Fact]
    public void Bad_options_and_mismatched_updates_are_refused()
    {
        var update = RandomAdapters.Create(2, 1.0, 1);
        Assert.Contains("rank budget", Assert.Throws<ArgumentException>(() => AdapterCompaction.Compact([update], new CompactionOptions(RankBudget: -1))).Message);
        Assert.Contains("tolerance", Assert.Throws<ArgumentException>(() => AdapterCompaction.Compact([update], new CompactionOptions(Tolerance: double.NaN))).Message);
        var module = RandomAdapters.Shapes[2].Module;
        var other = new LoraAdapter(update.Modules.Where(m => m.Key != module), 1.0);
        var error = Assert.Throws<AdapterFormatException>(() => AdapterCompaction.Compact([update, other]));
        Assert.Contains(module, error.Message);
    }
}
