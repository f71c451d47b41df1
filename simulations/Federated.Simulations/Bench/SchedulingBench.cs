using System.Globalization;
using Federated.Core.Scheduling;
using Spectre.Console;

namespace Federated.Simulations.Bench;

/// <summary>
/// Scheduling decision time with 10,000 enrolled virtual clients, per policy: the median and p99 of every
/// ClientReady/UpdateArrived call in the steady state (see <see cref="SchedulerBenchmark"/>). Target: median ≤ 1 ms.
/// </summary>
public sealed class SchedulingBench : IBenchSection
{
    private const double TargetMedianMicroseconds = 1000;

    public string Name => "scheduling";

    public string Description => "decision time per policy with 10,000 enrolled virtual clients (target: median ≤ 1 ms)";

    public Task RunAsync(bool quick, CancellationToken cancellationToken)
    {
        var clients = quick ? 1_000 : 10_000;
        var table = new Table().AddColumns("Policy", "Clients", "Decisions timed", "Aggregations", "Median", "p99", "Max", "Most assignments in one decision", "Median ≤ 1 ms");
        SchedulerOptions[] policies =
        [
            new SynchronousOptions { ClientsPerRound = clients / 10, MinQuorum = clients / 20 },
            new FedAsyncOptions(),
            new FedBuffOptions(),
            new FedCompassOptions(),
        ];
        foreach (var policy in policies)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var result = SchedulerBenchmark.Measure(policy, clients, tasksPerClient: 5);
            var ok = result.MedianMicroseconds <= TargetMedianMicroseconds;
            table.AddRow(
                result.Policy,
                result.Clients.ToString("N0", CultureInfo.InvariantCulture),
                result.Decisions.ToString("N0", CultureInfo.InvariantCulture),
                result.Aggregations.ToString("N0", CultureInfo.InvariantCulture),
                Micro(result.MedianMicroseconds),
                Micro(result.P99Microseconds),
                Micro(result.MaxMicroseconds),
                result.MostAssignments.ToString(CultureInfo.InvariantCulture),
                ok ? "[green]yes[/]" : "[red]no[/]");
        }
        AnsiConsole.Write(table);
        return Task.CompletedTask;
    }

    private static string Micro(double microseconds) => microseconds >= 1000
        ? $"{microseconds / 1000:F2} ms"
        : $"{microseconds:F1} µs";
}
