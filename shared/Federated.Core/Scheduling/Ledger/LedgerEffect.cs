namespace Federated.Core.Scheduling.Ledger;

/// <summary>
/// Something the ledger did that its owner reflects outside it (client records, the dashboard's index, logs,
/// waiting pollers). The ledger itself stays plain: it queues these and the owner takes them after each call.
/// </summary>
public abstract record LedgerEffect;

/// <summary>A task was handed out: the client works on the job.</summary>
public sealed record TaskIssued(string ClientId, long PolicyTaskId, string WireTaskId, long StartVersion, int Rank, int Steps, DateTimeOffset IssuedAt) : LedgerEffect;

/// <summary>A client's accepted update: its task is done.</summary>
public sealed record TaskAccepted(string ClientId, string WireTaskId, int WireRound, string Sha256, long Samples, int Rank, double ReportedSecondsPerStep) : LedgerEffect;

/// <summary>A task will not come back: it timed out, the policy withdrew it, or the client gave it back.</summary>
public sealed record TaskLost(string ClientId, long PolicyTaskId, string WireTaskId, int WireRound, TaskLossKind Kind, string Reason) : LedgerEffect;

/// <summary>An update the policy refused (its task had been closed); the client is told to ask again.</summary>
public sealed record UpdateRefused(string ClientId, string WireTaskId, string Reason) : LedgerEffect;

/// <summary>The policy dropped the client until it asks again (missed deadlines).</summary>
public sealed record ClientDropped(string ClientId, string Policy) : LedgerEffect;

/// <summary>A client the policy had dropped asked again, so it no longer counts as unavailable for the job.</summary>
public sealed record ClientBack(string ClientId) : LedgerEffect;

public enum TaskLossKind
{
    /// <summary>Not answered within the task timeout.</summary>
    TimedOut,

    /// <summary>Withdrawn by the policy at its deadline (a synchronous round closing, a group dissolved).</summary>
    Withdrawn,

    /// <summary>The client gave it back.</summary>
    GivenBack,
}
