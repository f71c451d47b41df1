using Federated.Core.Scheduling;
using Federated.Simulations.Bench;

namespace Federated.Server.Tests.Bench;

/// <summary>The benchmark's plumbing on a small federation; its timings are reported by the bench command, not asserted.</summary>
public class SchedulerBenchmarkTests
{
    [Fact]
    public void Benchmark_times_steady_state_decisions_and_reports_the_groups()
    {
        var result = SchedulerBenchmark.Measure(new FedCompassOptions(), clients: 300, tasksPerClient: 6);

        Assert.Equal((300, "fedcompass"), (result.Clients, result.Policy));
        Assert.InRange(result.Decisions, 300, 6 * 300);
        Assert.True(result.Aggregations >= 300, "every first update is aggregated on its own");
        Assert.True(result.MedianMicroseconds > 0 && result.MedianMicroseconds <= result.P99Microseconds && result.P99Microseconds <= result.MaxMicroseconds);
        Assert.InRange(result.MostAssignments, 1, 300);
        Assert.NotNull(result.OpenGroups);
    }

    [Fact]
    public void Benchmark_of_another_policy_has_no_groups_and_too_short_a_run_is_refused()
    {
        Assert.Null(SchedulerBenchmark.Measure(new FedAsyncOptions(), clients: 50, tasksPerClient: 4).OpenGroups);
        Assert.Throws<ArgumentOutOfRangeException>(() => SchedulerBenchmark.Measure(new FedCompassOptions(), clients: 10, tasksPerClient: 1));
    }
}
