using Federated.Contracts.Access;
using Federated.Server.Hosting;

namespace Federated.Server.Access;

/// <summary>An audit entry as kept in grain state (a plain class: the state serializer maps properties by name).</summary>
public sealed class AuditRecord
{
    public long Sequence { get; set; }

    public DateTimeOffset At { get; set; }

    public string Who { get; set; } = "";

    public OperatorRole? Role { get; set; }

    public string Action { get; set; } = "";

    public string Target { get; set; } = "";

    public string Outcome { get; set; } = "";

    public string Detail { get; set; } = "";

    public string From { get; set; } = "";

    public string Through { get; set; } = "";

    public static AuditRecord Of(AuditEntry e) => new()
    {
        Sequence = e.Sequence, At = e.At, Who = e.Who, Role = e.Role, Action = e.Action, Target = e.Target,
        Outcome = e.Outcome, Detail = e.Detail, From = e.From, Through = e.Through,
    };

    public AuditEntry ToEntry() => new(Sequence, At, Who, Role, Action, Target, Outcome, Detail, From, Through);
}

public sealed class AuditLogState
{
    public long NextSequence { get; set; } = 1;

    /// <summary>The oldest sealed segment still kept; segments [FirstSegment, NextSegment) exist.</summary>
    public long FirstSegment { get; set; }

    public long NextSegment { get; set; }

    public List<AuditRecord> Open { get; set; } = [];
}

/// <summary>
/// The audit trail's head. Bounded: <see cref="SegmentEntries"/> entries per segment, the newest
/// <see cref="SegmentsKept"/> sealed segments plus the open one kept (about 100,000 entries); older segments are
/// dropped whole. One activation in the cluster numbers every silo's entries in one order.
/// </summary>
[GrainType("audit-log")]
public sealed class AuditLogGrain(
    [PersistentState("audit-log", StorageNames.State)] IPersistentState<AuditLogState> state,
    IGrainFactory grains) : Grain, IAuditLogGrain
{
    public const int SegmentEntries = 256;
    public const int SegmentsKept = 400;

    public async Task<AuditEntry> Append(AuditEntry entry)
    {
        var s = state.State;
        var kept = entry with { Sequence = s.NextSequence };
        if (s.Open.Count >= SegmentEntries)
        {
            // Sealed before the head forgets them: a crash between the two seals the same number again, whole.
            await grains.GetGrain<IAuditSegmentGrain>(s.NextSegment).Seal([.. s.Open.Select(r => r.ToEntry())]);
            s.NextSegment++;
            s.Open.Clear();
            while (s.NextSegment - s.FirstSegment > SegmentsKept)
            {
                await grains.GetGrain<IAuditSegmentGrain>(s.FirstSegment).Drop();
                s.FirstSegment++;
            }
        }
        s.Open.Add(AuditRecord.Of(kept));
        s.NextSequence++;
        await state.WriteStateAsync();
        return kept;
    }

    public Task<AuditHead> Head()
    {
        var s = state.State;
        var segments = new List<long>();
        for (var n = s.FirstSegment; n < s.NextSegment; n++)
            segments.Add(n);
        return Task.FromResult(new AuditHead([.. s.Open.Select(r => r.ToEntry())], segments));
    }
}

public sealed class AuditSegmentState
{
    public List<AuditRecord> Entries { get; set; } = [];
}

[GrainType("audit-segment")]
public sealed class AuditSegmentGrain(
    [PersistentState("audit-segment", StorageNames.State)] IPersistentState<AuditSegmentState> state) : Grain, IAuditSegmentGrain
{
    public async Task Seal(IReadOnlyList<AuditEntry> entries)
    {
        state.State.Entries = [.. entries.Select(AuditRecord.Of)];
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<AuditEntry>> Entries() => Task.FromResult<IReadOnlyList<AuditEntry>>([.. state.State.Entries.Select(r => r.ToEntry())]);

    public async Task Drop()
    {
        await state.ClearStateAsync();
        DeactivateOnIdle();
    }
}
