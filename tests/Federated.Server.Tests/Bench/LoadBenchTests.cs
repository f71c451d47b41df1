using Federated.Simulations.Bench;

namespace Federated.Server.Tests.Bench;

/// <summary>The load bench's plumbing end to end on a few daemons; its latencies are reported by the bench command, not asserted.</summary>
public class LoadBenchTests
{
    [Fact]
    public async Task A_coordinator_process_serves_fake_daemons_and_reports_its_calls_cpu_and_memory()
    {
        var settings = new LoadSettings { Daemons = 5, Seconds = 4, HeartbeatIntervalSeconds = 1, PollWaitSeconds = 1, TrainSeconds = 0.5 };

        var report = await LoadBench.MeasureAsync(settings, progress: null, CancellationToken.None);

        foreach (var rpc in new[] { "Enrol", "Heartbeat", "PollTask" })
            Assert.True(report[rpc].Calls > 0, $"{rpc}: no calls");
        Assert.Equal(5, report["Enrol"].Calls);
        Assert.All(report.Rpcs, r => Assert.True(r.Errors == 0, $"{r.Rpc}: {string.Join(", ", r.ErrorsByStatus)}"));
        Assert.True(report["PollTask"].P50Ms <= report["PollTask"].P99Ms);
        Assert.True(report.ServerCpuSeconds > 0, "the server's CPU time was not read");
        Assert.InRange(report.ServerPeakResidentBytes, 10L << 20, 100L << 30);
        Assert.True(report.ServerPeakResidentBytes >= report.ServerResidentBytes);
    }
}
