using Federated.Contracts.Clients;

namespace Federated.Server.Clients;

/// <summary>What a <see cref="ClientIndexChange"/> says.</summary>
public enum ClientIndexChangeKind
{
    /// <summary>The client's snapshot (<see cref="ClientIndexChange.Client"/>).</summary>
    Client,

    /// <summary>What job <see cref="ClientIndexChange.JobId"/>'s scheduler says of the client (null: nothing).</summary>
    JobState,

    /// <summary>The latest task a scheduler handed the client.</summary>
    Assignment,

    /// <summary>Everything job <see cref="ClientIndexChange.JobId"/>'s scheduler says of the partition's clients (<see cref="ClientIndexChange.States"/>), replacing what was known.</summary>
    JobReplaced,
}

/// <summary>
/// One change to the client index as the feed partitions (<see cref="IClientIndexFeedGrain"/>) take and hand it
/// out; <see cref="Version"/> is the partition's counter when it took it (0 on the way in).
/// </summary>
[GenerateSerializer]
[Immutable]
public sealed record ClientIndexChange(
    [property: Id(0)] ClientIndexChangeKind Kind,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string? JobId = null,
    [property: Id(3)] ClientSnapshot? Client = null,
    [property: Id(4)] ClientJobState? JobState = null,
    [property: Id(5)] ClientAssignment? Assignment = null,
    [property: Id(6)] Dictionary<string, ClientJobState>? States = null,
    [property: Id(7)] long Version = 0);

/// <summary>A partition's changes after a version: at most a page, <see cref="More"/> when another follows.</summary>
[GenerateSerializer]
[Immutable]
public sealed record ClientIndexFeedPage(
    [property: Id(0)] Guid Epoch,
    [property: Id(1)] long Version,
    [property: Id(2)] ClientIndexChange[] Changes,
    [property: Id(3)] bool More);

/// <summary>Which feed partition holds a client: the same answer on every silo (FNV-1a of the id; string.GetHashCode differs per process).</summary>
public static class ClientIndexPartitions
{
    /// <summary>Fixed, as every silo must agree; 16 spread 10,000 clients' heartbeats over several silos' partitions.</summary>
    public const int Count = 16;

    public static int Of(string clientId)
    {
        var hash = 2166136261u;
        foreach (var c in clientId)
            hash = (hash ^ c) * 16777619u;
        return (int)(hash % Count);
    }
}
