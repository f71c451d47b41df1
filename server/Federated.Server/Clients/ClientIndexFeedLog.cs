namespace Federated.Server.Clients;

/// <summary>
/// A feed partition's memory: the latest change of each entry (a client's snapshot, its last assignment, what
/// each job says of it) in a list ordered by version, so a pull walks only what changed since it last looked.
/// Used from one grain activation only, so it needs no locking.
/// </summary>
public sealed class ClientIndexFeedLog(Guid epoch)
{
    private readonly LinkedList<ClientIndexChange> _log = new();
    private readonly Dictionary<(ClientIndexChangeKind, string, string), LinkedListNode<ClientIndexChange>> _entries = [];
    private long _version;

    /// <summary>Entries held (one per client snapshot, assignment and client-job pair).</summary>
    public int Count => _entries.Count;

    /// <summary>Takes a change; <paramref name="seed"/>: a snapshot read while refilling, kept only where none came meanwhile.</summary>
    public void Take(ClientIndexChange change, bool seed)
    {
        switch (change.Kind)
        {
            case ClientIndexChangeKind.Client:
                if (!seed || !_entries.ContainsKey(Key(change)))
                    Set(change);
                break;
            case ClientIndexChangeKind.JobState:
                // A state cleared that was never set needs no entry; one that was set must be cleared on every reader.
                if (change.JobState is not null || _entries.ContainsKey(Key(change)))
                    Set(change);
                break;
            case ClientIndexChangeKind.Assignment:
                if (!_entries.TryGetValue(Key(change), out var known) || known.Value.Assignment!.IssuedAt <= change.Assignment!.IssuedAt)
                    Set(change);
                break;
            case ClientIndexChangeKind.JobReplaced:
                var states = change.States ?? [];
                var stale = _entries.Values.Select(n => n.Value)
                    .Where(c => c.Kind == ClientIndexChangeKind.JobState && c.JobId == change.JobId && c.JobState is not null && !states.ContainsKey(c.ClientId))
                    .ToList();
                foreach (var gone in stale)
                    Set(gone with { JobState = null });
                foreach (var (clientId, state) in states)
                    Set(new ClientIndexChange(ClientIndexChangeKind.JobState, clientId, change.JobId, JobState: state));
                break;
            default:
                throw new ArgumentException($"unknown client index change {change.Kind}", nameof(change));
        }
    }

    private void Set(ClientIndexChange change)
    {
        var key = Key(change);
        if (_entries.TryGetValue(key, out var node))
            _log.Remove(node);
        _entries[key] = _log.AddLast(change with { Version = ++_version });
    }

    private static (ClientIndexChangeKind, string, string) Key(ClientIndexChange change) => (change.Kind, change.ClientId, change.JobId ?? "");

    /// <summary>
    /// The latest change of each entry newer than <paramref name="version"/>, oldest first, at most
    /// <paramref name="max"/>; every entry when <paramref name="known"/> is not this log's epoch.
    /// </summary>
    public ClientIndexFeedPage ChangesSince(Guid known, long version, int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        if (known != epoch)
            version = 0;
        var start = _log.Last;
        while (start?.Previous is { } previous && previous.Value.Version > version)
            start = previous;
        var changes = new List<ClientIndexChange>();
        for (var node = start; node is not null && changes.Count < max; node = node.Next)
        {
            if (node.Value.Version > version)
                changes.Add(node.Value);
        }
        var more = changes.Count == max && changes[^1].Version < _version;
        return new ClientIndexFeedPage(epoch, more ? changes[^1].Version : _version, [.. changes], more);
    }
}
