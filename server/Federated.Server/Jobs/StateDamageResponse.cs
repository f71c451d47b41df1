using Federated.Contracts.Errors;
using Federated.Contracts.Jobs;
using Federated.Server.Storage;

namespace Federated.Server.Jobs;

/// <summary>
/// What a damaged grain state file means beyond its own grain, in one place. A job's scheduler cannot go on
/// without its ledger (a fresh one would hand out rounds the job has committed), so its job fails, naming the file.
/// The rest need nothing here: a job's own file fails that job (<see cref="JobGrain"/>), the job and client
/// directories rebuild their lists from the files on disk, a client's record starts afresh (it enrols again),
/// and a job's compactions are a cache that is recomputed.
/// </summary>
public sealed partial class StateDamageResponse(IGrainFactory grains, ILogger<StateDamageResponse> logger)
{
    public async Task HandleAsync(StateDamage damage)
    {
        if (damage.Grain.Type.ToString() != "scheduler")
            return;
        var jobId = damage.Grain.Key.ToString()!;
        try
        {
            await grains.GetGrain<IJobGrain>(jobId).Fail($"job '{jobId}': its scheduler's {damage.Describe()}");
        }
        catch (FederatedException e) when (e.Error == FederatedError.NotFound)
        {
            LogNoJob(logger, jobId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A damaged scheduler state was found for job {JobId}, which does not exist")]
    private static partial void LogNoJob(ILogger logger, string jobId);
}
