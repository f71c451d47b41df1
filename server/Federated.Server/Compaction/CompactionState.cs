using Federated.Contracts.Compaction;

namespace Federated.Server.Compaction;

/// <summary>Persisted compactions of a job, by the hashes they cover and the rank budget.</summary>
public sealed class CompactionState
{
    public Dictionary<string, CatchUp> ByKey { get; set; } = [];
}
