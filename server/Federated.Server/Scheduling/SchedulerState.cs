using Federated.Contracts.Scheduling;
using Federated.Core.Scheduling.Ledger;

namespace Federated.Server.Scheduling;

/// <summary>
/// Persisted state of a job's scheduler: its task ledger (tasks as clients see them, queued aggregations, cycling
/// ranks; Federated.Core.Scheduling.Ledger) with each accepted upload's submission, and the policy's own state as JSON.
/// </summary>
public sealed class SchedulerState : LedgerState<UpdateSubmission>
{
    /// <summary>The policy's <c>SchedulingState</c> as JSON; empty before its first event.</summary>
    public string PolicyState { get; set; } = "";
}
