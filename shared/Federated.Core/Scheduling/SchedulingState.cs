using System.Text.Json.Serialization;

namespace Federated.Core.Scheduling;

/// <summary>
/// Everything a policy knows, as plain properties: serialise it (System.Text.Json) to persist a scheduler and
/// hand it back to <see cref="SchedulerOptions.CreatePolicy"/> to continue exactly where it stopped.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "policy")]
[JsonDerivedType(typeof(SynchronousState), "synchronous")]
[JsonDerivedType(typeof(FedAsyncState), "fedasync")]
[JsonDerivedType(typeof(FedBuffState), "fedbuff")]
[JsonDerivedType(typeof(FedCompassState), "fedcompass")]
public abstract class SchedulingState
{
    /// <summary>The latest clock value seen; null before the first event.</summary>
    public double? Now { get; set; }

    /// <summary>Global model version: the number of aggregations so far.</summary>
    public long Version { get; set; }

    public long NextTaskId { get; set; } = 1;

    public Dictionary<string, ClientRecord> Clients { get; set; } = [];
}

/// <summary>What the scheduler knows of one client.</summary>
public sealed class ClientRecord
{
    public required string ClientId { get; set; }

    /// <summary>The task the client is working on, if any.</summary>
    public OpenTask? Task { get; set; }

    /// <summary>Estimated seconds per local step (compute only when the client reports it); null until measured.</summary>
    public double? SecondsPerStep { get; set; }

    /// <summary>Estimated network (download + upload) seconds per task; 0 unless the client reports compute time.</summary>
    public double NetworkSeconds { get; set; }

    /// <summary>Compute seconds per step the client last reported itself.</summary>
    public double? ReportedComputeSecondsPerStep { get; set; }

    public double? MemoryGiB { get; set; }

    public int? Rank { get; set; }

    /// <summary>The rank was chosen with a measured speed and stays, so speed estimates stay comparable.</summary>
    public bool RankSettled { get; set; }

    public bool Available { get; set; } = true;

    /// <summary>The client is idle and has been told to wait.</summary>
    public bool Waiting { get; set; }

    public int MissedDeadlines { get; set; }

    public long UpdatesReceived { get; set; }

    /// <summary>Samples of the client's last accepted update; null until its first. Its n_k in federation weighting's N.</summary>
    public long? Samples { get; set; }

    /// <summary>An operator removed the client: it leaves federation weighting's N until it asks again.</summary>
    public bool Removed { get; set; }
}

/// <summary>A task handed out and not yet returned.</summary>
public sealed class OpenTask
{
    public long TaskId { get; set; }

    public int Steps { get; set; }

    public long StartVersion { get; set; }

    public double IssuedAt { get; set; }

    public double? Deadline { get; set; }

    public long? GroupId { get; set; }

    public int? Rank { get; set; }
}

/// <summary>An arrived update not yet aggregated.</summary>
public sealed class PendingUpdate
{
    public long TaskId { get; set; }

    public required string ClientId { get; set; }

    public long StartVersion { get; set; }

    public long Samples { get; set; }

    public double ArrivedAt { get; set; }
}
