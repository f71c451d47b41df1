using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;

namespace Federated.Server.Jobs;

/// <summary>Reads a job's history of global updates.</summary>
public static class JobHistory
{
    /// <summary>
    /// The chain of updates a client of this rank merges, oldest first, to build global version
    /// <paramref name="throughVersion"/> (all committed rounds when null): each round's view for its rank, or the global update.
    /// </summary>
    public static GlobalUpdateRef[] UpdatesFor(JobSnapshot job, int rank, long? throughVersion = null) => job.History
        .Where(r => throughVersion is not { } through || r.Round <= through)
        .Select(r =>
        {
            var (sha256, bytes, updateRank) = r.UpdateFor(rank);
            return new GlobalUpdateRef(r.Round, sha256, bytes, updateRank);
        }).ToArray();
}
