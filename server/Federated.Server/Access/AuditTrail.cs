using System.Runtime.CompilerServices;
using Federated.Contracts.Access;

namespace Federated.Server.Access;

/// <summary>Records operator actions in the audit grains and reads them back (newest first, or from a time on).</summary>
public sealed partial class AuditTrail(IGrainFactory grains, TimeProvider time, ILogger<AuditTrail> logger)
{
    public const string Grpc = "grpc", Dashboard = "dashboard";

    private IAuditLogGrain Log => grains.GetGrain<IAuditLogGrain>(0);

    /// <summary>
    /// Records one entry. A failure to record is logged, not thrown: the action it describes has happened (or been
    /// refused) already, and the caller's answer should say so.
    /// </summary>
    public async Task RecordAsync(string who, OperatorRole? role, string action, string target, string outcome, string detail, string from, string through)
    {
        var entry = new AuditEntry(0, time.GetUtcNow(), who, role, action, Clip(target), outcome, Clip(detail), from, through);
        try
        {
            await Log.Append(entry);
        }
        catch (Exception e)
        {
            LogNotRecorded(logger, e, who, action, target, outcome);
        }
    }

    /// <summary>The newest <paramref name="count"/> entries, newest first.</summary>
    public async Task<IReadOnlyList<AuditEntry>> NewestAsync(int count)
    {
        var head = await Log.Head();
        var newest = new List<AuditEntry>(Math.Min(count, 1024));
        newest.AddRange(head.Open.Reverse().Take(count));
        for (var i = head.Segments.Count - 1; i >= 0 && newest.Count < count; i--)
            newest.AddRange((await grains.GetGrain<IAuditSegmentGrain>(head.Segments[i]).Entries()).Reverse().Take(count - newest.Count));
        return newest;
    }

    /// <summary>Every kept entry at or after <paramref name="since"/>, oldest first.</summary>
    public async IAsyncEnumerable<AuditEntry> ExportAsync(DateTimeOffset? since, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var head = await Log.Head();
        foreach (var segment in head.Segments)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var entries = await grains.GetGrain<IAuditSegmentGrain>(segment).Entries();
            if (since is { } from && entries.Count > 0 && entries[^1].At < from)
                continue;
            foreach (var entry in entries.Where(e => since is null || e.At >= since))
                yield return entry;
        }
        foreach (var entry in head.Open.Where(e => since is null || e.At >= since))
            yield return entry;
    }

    private static string Clip(string text) => text.Length <= 500 ? text : text[..500] + "…";

    [LoggerMessage(Level = LogLevel.Error, Message = "The audit trail could not record {Who} {Action} {Target}: {Outcome}")]
    private static partial void LogNotRecorded(ILogger logger, Exception exception, string who, string action, string target, string outcome);
}
