using System.Text.Json;
using Federated.Core.Scheduling;

namespace Federated.Core.Tests.Scheduling;

/// <summary>Passes events through and keeps every report and decision, for checking invariants afterwards.</summary>
internal sealed class RecordingPolicy(ISchedulingPolicy inner) : ISchedulingPolicy
{
    public List<UpdateReport> Reports { get; } = [];

    public List<ScheduleDecision> Decisions { get; } = [];

    public string Name => inner.Name;

    public long Version => inner.Version;

    public double? NextDeadline => inner.NextDeadline;

    public SchedulingState State => inner.State;

    public ScheduleDecision ClientReady(string clientId, double now, double? memoryGiB = null) => Keep(inner.ClientReady(clientId, now, memoryGiB));

    public ScheduleDecision UpdateArrived(UpdateReport report)
    {
        Reports.Add(report);
        return Keep(inner.UpdateArrived(report));
    }

    public ScheduleDecision TimerFired(double now) => Keep(inner.TimerFired(now));

    public ScheduleDecision ClientLost(string clientId, double now) => Keep(inner.ClientLost(clientId, now));

    public ScheduleDecision ClientRemoved(string clientId, double now) => Keep(inner.ClientRemoved(clientId, now));

    private ScheduleDecision Keep(ScheduleDecision decision)
    {
        Decisions.Add(decision);
        return decision;
    }
}

/// <summary>
/// After event number <paramref name="restartAfter"/>, saves the policy's options and state as JSON and carries on
/// with a policy rebuilt from that JSON alone, as a restarted server would.
/// </summary>
internal sealed class RestartingPolicy(SchedulerOptions options, int restartAfter) : ISchedulingPolicy
{
    private ISchedulingPolicy _inner = options.CreatePolicy();
    private int _events;

    public bool Restarted { get; private set; }

    public string Name => _inner.Name;

    public long Version => _inner.Version;

    public double? NextDeadline => _inner.NextDeadline;

    public SchedulingState State => _inner.State;

    public ScheduleDecision ClientReady(string clientId, double now, double? memoryGiB = null) => After(_inner.ClientReady(clientId, now, memoryGiB));

    public ScheduleDecision UpdateArrived(UpdateReport report) => After(_inner.UpdateArrived(report));

    public ScheduleDecision TimerFired(double now) => After(_inner.TimerFired(now));

    public ScheduleDecision ClientLost(string clientId, double now) => After(_inner.ClientLost(clientId, now));

    public ScheduleDecision ClientRemoved(string clientId, double now) => After(_inner.ClientRemoved(clientId, now));

    private ScheduleDecision After(ScheduleDecision decision)
    {
        if (++_events == restartAfter)
        {
            var savedOptions = JsonSerializer.Serialize(options);
            var savedState = JsonSerializer.Serialize(_inner.State);
            var restoredOptions = JsonSerializer.Deserialize<SchedulerOptions>(savedOptions)!;
            _inner = restoredOptions.CreatePolicy(JsonSerializer.Deserialize<SchedulingState>(savedState));
            Restarted = true;
        }
        return decision;
    }
}
