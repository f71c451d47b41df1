namespace Federated.Core.Scheduling;

/// <summary>
/// A scheduling policy driven by events that carry the clock (seconds: virtual in simulations, wall in the
/// server). It owns no timers or threads: the caller carries out each <see cref="ScheduleDecision"/> and calls
/// <see cref="TimerFired"/> at <see cref="NextDeadline"/>. Deadlines already due are handled, in time order, at
/// the start of every event, so no event sees a group or round that should have closed; a late timer only delays
/// the work that follows a deadline (re-assignments happen at the clock value of the event that noticed it).
/// </summary>
public interface ISchedulingPolicy
{
    string Name { get; }

    /// <summary>Global version; every aggregation adds one.</summary>
    long Version { get; }

    /// <summary>The earliest time the policy wants <see cref="TimerFired"/>; null when nothing is pending.</summary>
    double? NextDeadline { get; }

    /// <summary>The whole state, serialisable; see <see cref="SchedulerOptions.CreatePolicy"/>.</summary>
    SchedulingState State { get; }

    /// <summary>An idle client asks for work (also after a rejection or after being marked unavailable).
    /// A client that still has an open task is offered it again.</summary>
    ScheduleDecision ClientReady(string clientId, double now, double? memoryGiB = null);

    ScheduleDecision UpdateArrived(UpdateReport report);

    ScheduleDecision TimerFired(double now);

    /// <summary>The caller knows the client is gone: its open task is withdrawn and it is unavailable until it asks again.</summary>
    ScheduleDecision ClientLost(string clientId, double now);

    /// <summary>An operator removed the client from the federation: as <see cref="ClientLost"/>, and its samples no longer
    /// count in federation weighting's N (until it asks again). Unknown clients are ignored.</summary>
    ScheduleDecision ClientRemoved(string clientId, double now);
}
