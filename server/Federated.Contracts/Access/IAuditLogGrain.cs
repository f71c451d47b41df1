namespace Federated.Contracts.Access;

/// <summary>
/// The audit trail's head (one grain, key 0): numbers entries, keeps the newest in an open segment and seals a full
/// segment into an <see cref="IAuditSegmentGrain"/>; the oldest sealed segments are dropped past the bound.
/// </summary>
public interface IAuditLogGrain : IGrainWithIntegerKey
{
    /// <summary>Records the entry (its sequence number is given here) and returns it as kept.</summary>
    Task<AuditEntry> Append(AuditEntry entry);

    /// <summary>The open segment's entries (oldest first) and the sealed segments still kept, oldest first.</summary>
    [AlwaysInterleave]
    Task<AuditHead> Head();
}

/// <summary>A sealed block of audit entries, written once (key: its number).</summary>
public interface IAuditSegmentGrain : IGrainWithIntegerKey
{
    Task Seal(IReadOnlyList<AuditEntry> entries);

    Task<IReadOnlyList<AuditEntry>> Entries();

    Task Drop();
}

/// <summary>One operator action or refusal.</summary>
/// <param name="Who">The account name, <see cref="AuditWho.LegacyToken"/> or <see cref="AuditWho.Anonymous"/>.</param>
/// <param name="Role">The caller's role; null when it was not authenticated.</param>
/// <param name="Outcome">done, refused or failed (<see cref="AuditOutcome"/>).</param>
/// <param name="From">The remote address.</param>
/// <param name="Through">grpc or dashboard.</param>
[GenerateSerializer]
[Immutable]
public sealed record AuditEntry(
    [property: Id(0)] long Sequence,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] string Who,
    [property: Id(3)] OperatorRole? Role,
    [property: Id(4)] string Action,
    [property: Id(5)] string Target,
    [property: Id(6)] string Outcome,
    [property: Id(7)] string Detail,
    [property: Id(8)] string From,
    [property: Id(9)] string Through);

[GenerateSerializer]
[Immutable]
public sealed record AuditHead(
    [property: Id(0)] IReadOnlyList<AuditEntry> Open,
    [property: Id(1)] IReadOnlyList<long> Segments);

public static class AuditOutcome
{
    public const string Done = "done", Refused = "refused", Failed = "failed";
}

public static class AuditWho
{
    public const string LegacyToken = "legacy operator token";
    public const string Anonymous = "anonymous (open server)";
}
