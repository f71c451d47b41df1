using System.Text.Json.Serialization;

namespace Federated.Core.Scheduling.Ledger;

/// <summary>
/// What a job's task ledger persists besides the policy's own state: the tasks it handed out as clients see them,
/// the aggregations the policy ordered that are not yet committed, and the ranks given from the job's cycling list.
/// <typeparamref name="TUpdate"/> is the owner's record of an accepted update (the server's upload submission, the
/// simulator's sample count); the ledger only keeps it.
/// </summary>
public class LedgerState<TUpdate>
    where TUpdate : class
{
    /// <summary>Tasks by <see cref="LedgerTask{TUpdate}.PolicyTaskId"/>: open, answered and not yet aggregated, or recently finished.</summary>
    public Dictionary<long, LedgerTask<TUpdate>> Issued { get; set; } = [];

    /// <summary>Aggregations ordered by the policy, oldest first, not yet committed to the job.</summary>
    public List<PendingAggregation> Aggregations { get; set; } = [];

    /// <summary>Ranks given to clients from the job's cycling list, in order of their first request, so a client keeps its rank.</summary>
    public Dictionary<string, int> AssignedRanks { get; set; } = [];

    public int NextRankIndex { get; set; }
}

public enum LedgerTaskStatus
{
    Open,
    Accepted,
    Aggregated,
    Withdrawn,
}

/// <summary>
/// A task as handed to a client. It has two ids: <see cref="PolicyTaskId"/>, the policy's task number, and
/// <see cref="WireTaskId"/>, the string the client sees ("job.tN.client"). <see cref="WireRound"/> is the start
/// version plus one, which the client echoes back on the wire; under the asynchronous policies it is not the global
/// version its update lands in (that is the aggregation's <see cref="PendingAggregation.Version"/>).
/// JSON names are the ones earlier versions persisted.
/// </summary>
public sealed class LedgerTask<TUpdate>
    where TUpdate : class
{
    [JsonPropertyName("TaskId")]
    public string WireTaskId { get; set; } = "";

    public long PolicyTaskId { get; set; }

    public string ClientId { get; set; } = "";

    [JsonPropertyName("Round")]
    public int WireRound { get; set; }

    /// <summary>The global version (number of committed aggregations) the client trains from.</summary>
    public long StartVersion { get; set; }

    public int Steps { get; set; }

    public int Rank { get; set; }

    public double Alpha { get; set; }

    public DateTimeOffset IssuedAt { get; set; }

    /// <summary>The task expires at this time unless an update for it has been accepted.</summary>
    public DateTimeOffset Deadline { get; set; }

    /// <summary>When the accepted update arrived.</summary>
    public DateTimeOffset? ArrivedAt { get; set; }

    /// <summary>The FedCompass arrival group the task was given to, if any.</summary>
    public long? Group { get; set; }

    public LedgerTaskStatus Status { get; set; }

    /// <summary>Why a withdrawn task was withdrawn.</summary>
    public string Reason { get; set; } = "";

    /// <summary>Content hash of the accepted update (a repeat of the same upload is a duplicate, not a second update).</summary>
    public string? UpdateSha256 { get; set; }

    /// <summary>Training samples of the accepted update.</summary>
    public long Samples { get; set; }

    /// <summary>The owner's record of the accepted update.</summary>
    public TUpdate? Update { get; set; }
}

/// <summary>One aggregation the policy ordered: global version <see cref="Version"/> = previous + Σ weight·update.</summary>
public sealed class PendingAggregation
{
    /// <summary>The global version this aggregation makes (the job's round number in its history).</summary>
    public long Version { get; set; }

    /// <summary>The FedCompass arrival group aggregated, if any.</summary>
    public long? GroupId { get; set; }

    public List<PendingContribution> Updates { get; set; } = [];
}

/// <summary>An update in a pending aggregation and its absolute weight.</summary>
public sealed class PendingContribution
{
    public long PolicyTaskId { get; set; }

    public double Weight { get; set; }

    public long Staleness { get; set; }
}
