using System.Diagnostics;
using Federated.Core.Scheduling.Simulation;

namespace Federated.Core.Scheduling;

/// <summary>
/// Measures how long one scheduling decision (ClientReady or UpdateArrived) takes with many enrolled clients:
/// the policy runs in the virtual-time engine (no training) and every call is timed on its own.
/// </summary>
public static class SchedulerBenchmark
{
    public static SchedulerBenchmarkResult Measure(SchedulerOptions policy, int clients = 10_000, long aggregations = 2_000, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var simulation = new SimulationOptions
        {
            Clients = clients,
            Seed = seed,
            Speeds = new UniformSpeed(0.5, 5),
            Drift = 0.05,
            MaxAggregations = aggregations,
        };
        var timed = new TimedPolicy(policy.CreatePolicy());
        var result = new VirtualTimeEngine(simulation, new NoTraining()).Run(timed);
        var ticks = timed.Ticks.ToArray();
        Array.Sort(ticks);
        double Micro(long t) => t * 1e6 / Stopwatch.Frequency;
        return new SchedulerBenchmarkResult(
            clients,
            ticks.Length,
            result.Aggregations.Count,
            Micro(ticks[ticks.Length / 2]),
            Micro(ticks[(int)Math.Min(ticks.Length - 1, Math.Ceiling(ticks.Length * 0.99) - 1)]),
            Micro(ticks[^1]));
    }

    private sealed class TimedPolicy(ISchedulingPolicy inner) : ISchedulingPolicy
    {
        public List<long> Ticks { get; } = [];

        public string Name => inner.Name;

        public long Version => inner.Version;

        public double? NextDeadline => inner.NextDeadline;

        public SchedulingState State => inner.State;

        public ScheduleDecision ClientReady(string clientId, double now, double? memoryGiB = null) => Timed(() => inner.ClientReady(clientId, now, memoryGiB));

        public ScheduleDecision UpdateArrived(UpdateReport report) => Timed(() => inner.UpdateArrived(report));

        public ScheduleDecision TimerFired(double now) => inner.TimerFired(now);

        public ScheduleDecision ClientLost(string clientId, double now) => inner.ClientLost(clientId, now);

        private ScheduleDecision Timed(Func<ScheduleDecision> call)
        {
            var start = Stopwatch.GetTimestamp();
            var decision = call();
            Ticks.Add(Stopwatch.GetTimestamp() - start);
            return decision;
        }
    }
}

/// <summary>Decision times in microseconds over <see cref="Decisions"/> timed calls.</summary>
public sealed record SchedulerBenchmarkResult(int Clients, int Decisions, int Aggregations, double MedianMicroseconds, double P99Microseconds, double MaxMicroseconds);
