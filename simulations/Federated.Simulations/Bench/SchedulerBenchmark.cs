using System.Diagnostics;
using Federated.Core.Scheduling;
using Federated.Core.Scheduling.Simulation;

namespace Federated.Simulations.Bench;

/// <summary>
/// Measures how long one scheduling decision (ClientReady or UpdateArrived) takes with many enrolled clients:
/// the policy runs in the virtual-time engine (no training) and every call after enrolment is timed on its own.
/// Enrolment (every client's first ClientReady) and the updates of first tasks are left out, so the figures are
/// those of the steady state, where FedCompass has its groups.
/// </summary>
public static class SchedulerBenchmark
{
    /// <param name="tasksPerClient">How long to run: about this many tasks per client.</param>
    public static SchedulerBenchmarkResult Measure(SchedulerOptions policy, int clients = 10_000, int tasksPerClient = 5, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentOutOfRangeException.ThrowIfLessThan(tasksPerClient, 2);
        var simulation = new SimulationOptions
        {
            Clients = clients,
            Seed = seed,
            Speeds = new UniformSpeed(0.5, 5),
            Drift = 0.05,
            MaxAggregations = long.MaxValue,
            MaxEvents = (long)clients * tasksPerClient,
        };
        var timed = new TimedPolicy(policy.CreatePolicy(), firstTimedTask: clients + 1);
        var result = new VirtualTimeEngine(simulation, new NoTraining()).Run(timed);
        var ticks = timed.Ticks.ToArray();
        Array.Sort(ticks);
        double Micro(long t) => t * 1e6 / Stopwatch.Frequency;
        if (ticks.Length == 0)
            throw new InvalidOperationException($"no decision after enrolment was timed; run more than {tasksPerClient} tasks per client");
        return new SchedulerBenchmarkResult(
            clients,
            policy.CreatePolicy().Name,
            ticks.Length,
            result.Aggregations.Count,
            Micro(ticks[ticks.Length / 2]),
            Micro(ticks[(int)Math.Min(ticks.Length - 1, Math.Ceiling(ticks.Length * 0.99) - 1)]),
            Micro(ticks[^1]),
            timed.MostAssignments,
            timed.State is FedCompassState compass ? compass.Groups.Count : null);
    }

    private sealed class TimedPolicy(ISchedulingPolicy inner, long firstTimedTask) : ISchedulingPolicy
    {
        public List<long> Ticks { get; } = [];

        public int MostAssignments { get; private set; }

        public string Name => inner.Name;

        public long Version => inner.Version;

        public double? NextDeadline => inner.NextDeadline;

        public SchedulingState State => inner.State;

        public ScheduleDecision ClientReady(string clientId, double now, double? memoryGiB = null)
            => inner.State.NextTaskId > firstTimedTask ? Timed(() => inner.ClientReady(clientId, now, memoryGiB)) : inner.ClientReady(clientId, now, memoryGiB);

        public ScheduleDecision UpdateArrived(UpdateReport report)
            => report.TaskId >= firstTimedTask ? Timed(() => inner.UpdateArrived(report)) : inner.UpdateArrived(report);

        public ScheduleDecision TimerFired(double now) => inner.TimerFired(now);

        public ScheduleDecision ClientLost(string clientId, double now) => inner.ClientLost(clientId, now);

        public ScheduleDecision ClientRemoved(string clientId, double now) => inner.ClientRemoved(clientId, now);

        private ScheduleDecision Timed(Func<ScheduleDecision> call)
        {
            var start = Stopwatch.GetTimestamp();
            var decision = call();
            Ticks.Add(Stopwatch.GetTimestamp() - start);
            MostAssignments = Math.Max(MostAssignments, decision.Assignments.Count);
            return decision;
        }
    }
}

/// <summary>
/// Decision times in microseconds over <see cref="Decisions"/> timed calls. The slowest decisions are group
/// aggregations that re-assign every member (<see cref="MostAssignments"/> in one decision).
/// </summary>
public sealed record SchedulerBenchmarkResult(
    int Clients,
    string Policy,
    int Decisions,
    int Aggregations,
    double MedianMicroseconds,
    double P99Microseconds,
    double MaxMicroseconds,
    int MostAssignments,
    int? OpenGroups);
