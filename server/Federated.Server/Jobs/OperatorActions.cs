using Federated.Contracts;
using Federated.Contracts.Clients;
using Federated.Contracts.Errors;
using Federated.Contracts.Jobs;

namespace Federated.Server.Jobs;

/// <summary>
/// What an operator does to a running job or an enrolled client, for the dashboard and the Operator gRPC service
/// alike (one place, so both act the same way).
/// </summary>
public sealed class OperatorActions(IGrainFactory grains)
{
    public static readonly IReadOnlyList<string> JobActions = ["pause", "resume", "stop"];
    public static readonly IReadOnlyList<string> ClientActions = ["pause", "resume", "drain", "remove"];

    /// <summary>pause, resume or stop; NOT_FOUND for another action.</summary>
    public async Task<JobSnapshot> JobAsync(string jobId, string action)
    {
        var job = grains.GetGrain<IJobGrain>(Identifiers.Require(jobId, "job id"));
        return action switch
        {
            "pause" => await job.Pause(),
            "resume" => await job.Resume(),
            "stop" => await job.Stop(),
            _ => throw FederatedException.NotFound($"no job action '{Excerpt.Of(action)}' (pause, resume or stop)"),
        };
    }

    /// <summary>pause, resume, drain or remove (which also revokes the client's credential); NOT_FOUND for another action.</summary>
    public async Task<ClientSnapshot> ClientAsync(string clientId, string action)
    {
        var admission = action switch
        {
            "pause" => ClientAdmission.Paused,
            "resume" => ClientAdmission.Active,
            "drain" => ClientAdmission.Draining,
            "remove" => ClientAdmission.Removed,
            _ => throw FederatedException.NotFound($"no client action '{Excerpt.Of(action)}' (pause, resume, drain or remove)"),
        };
        return await grains.GetGrain<IClientGrain>(Identifiers.Require(clientId, "client id")).SetAdmission(admission);
    }

    /// <summary>Every enrolled client, by id.</summary>
    public async Task<IReadOnlyList<ClientSnapshot>> ListClientsAsync(CancellationToken cancellationToken)
    {
        var ids = await grains.GetGrain<IClientDirectoryGrain>(0).ListClients();
        var snapshots = new List<ClientSnapshot>(ids.Length);
        foreach (var batch in ids.Order(StringComparer.Ordinal).Chunk(256))
        {
            cancellationToken.ThrowIfCancellationRequested();
            snapshots.AddRange(await Task.WhenAll(batch.Select(id => grains.GetGrain<IClientGrain>(id).GetSnapshot())));
        }
        return snapshots;
    }

    /// <summary>"PauseJob" for the dashboard's "pause" of a job: the audit trail names actions as the gRPC methods do.</summary>
    public static string AuditName(string action, string what)
        => action.Length == 0 ? what : char.ToUpperInvariant(action[0]) + action[1..] + what;
}
