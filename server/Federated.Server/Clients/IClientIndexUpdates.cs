using Federated.Contracts.Clients;

namespace Federated.Server.Clients;

/// <summary>
/// What the client grains and the schedulers tell the client index. Local mode: the silo's own
/// <see cref="ClientIndex"/>, at once. Postgres mode: <see cref="ClientIndexPublisher"/>, which sends the changes to
/// the feed partitions that every silo's <see cref="ClientIndexSync"/> pulls from.
/// </summary>
public interface IClientIndexUpdates
{
    /// <summary>A client's current snapshot (its grain calls this on every change).</summary>
    void Upsert(ClientSnapshot client);

    /// <summary>What the job's scheduler says of the client now; null: nothing (no open task, not dropped).</summary>
    void SetJobState(string jobId, string clientId, ClientJobState? state);

    /// <summary>The latest task a scheduler handed the client (kept after it finishes).</summary>
    void RecordAssignment(string clientId, ClientAssignment assignment);

    /// <summary>Everything the job's scheduler says of its clients, replacing what was known (after a restart).</summary>
    void ReplaceJob(string jobId, IEnumerable<KeyValuePair<string, ClientJobState>> states);
}
