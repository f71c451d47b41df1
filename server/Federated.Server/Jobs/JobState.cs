using Federated.Contracts.Jobs;

namespace Federated.Server.Jobs;

/// <summary>Persisted state of a job grain. Adapters appear only as content hashes.</summary>
public sealed class JobState
{
    public JobConfig? Config { get; set; }

    public JobStatusKind Status { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public List<RoundRecord> History { get; set; } = [];

    public EvaluationSummary? Baseline { get; set; }

    public string? Error { get; set; }

    public string? EvaluationError { get; set; }

    public List<JobEvent> Events { get; set; } = [];

    /// <summary>Counts the job's changes for watchers (not a model version); persisted under its earlier name.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("Version")]
    public long ChangeCount { get; set; }
}
