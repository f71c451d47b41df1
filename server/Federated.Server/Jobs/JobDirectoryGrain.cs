using Federated.Contracts.Jobs;
using Federated.Server.Hosting;
using Federated.Server.Storage;

namespace Federated.Server.Jobs;

/// <summary>Persisted list of jobs and which of them hand out tasks.</summary>
public sealed class JobDirectoryState
{
    public List<string> Jobs { get; set; } = [];

    public List<string> Active { get; set; } = [];
}

/// <remarks>
/// If its state file is damaged (moved aside by <see cref="FileGrainStorage"/>), the list is rebuilt from the job
/// state files on disk, damaged ones included (those jobs then show as failed, naming their file), in order of
/// their ids (the order they were created in is lost with the file); a job is active again if it is running.
/// So a damaged list hides no job.
/// </remarks>
[GrainType("job-directory")]
public sealed partial class JobDirectoryGrain(
    [PersistentState("jobs", StorageNames.State)] IPersistentState<JobDirectoryState> state,
    DamagedStateFiles damaged,
    IServiceProvider services,
    ILogger<JobDirectoryGrain> logger) : Grain, IJobDirectoryGrain
{
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!state.RecordExists && damaged.Find(this.GetGrainId()) is { } damage)
            await RebuildAsync(damage);
        await base.OnActivateAsync(cancellationToken);
    }

    private async Task RebuildAsync(StateDamage damage)
    {
        var jobs = services.GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(StorageNames.State) is FileGrainStorage files
            ? files.ListKeys("job", "job")
            : [];
        var rebuilt = new JobDirectoryState { Jobs = [.. jobs] };
        foreach (var jobId in jobs)
        {
            try
            {
                // GetStatus interleaves, so a job that is itself waiting on this directory cannot deadlock the rebuild.
                if (await GrainFactory.GetGrain<IJobGrain>(jobId).GetStatus() == JobStatusKind.Running)
                    rebuilt.Active.Add(jobId);
            }
            catch (Exception e)
            {
                LogUnreadable(logger, e, jobId);
            }
        }
        state.State = rebuilt;
        await state.WriteStateAsync();
        LogRebuilt(logger, damage.Describe(), rebuilt.Jobs.Count, rebuilt.Active.Count);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The job directory's {Damage}; rebuilt it from the job state files: {Jobs} jobs, {Active} active")]
    private static partial void LogRebuilt(ILogger logger, string damage, int jobs, int active);

    [LoggerMessage(Level = LogLevel.Error, Message = "Rebuilding the job directory: job {JobId} could not be read; it is listed, inactive")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string jobId);

    public async Task Register(string jobId, bool active)
    {
        var added = AddOnce(state.State.Jobs, jobId);
        if (Mark(jobId, active) || added)
            await state.WriteStateAsync();
    }

    public async Task SetActive(string jobId, bool active)
    {
        if (Mark(jobId, active))
            await state.WriteStateAsync();
    }

    public Task<string[]> ListJobs() => Task.FromResult(state.State.Jobs.ToArray());

    public Task<string[]> ListActiveJobs() => Task.FromResult(state.State.Active.ToArray());

    private bool Mark(string jobId, bool active)
        => active ? AddOnce(state.State.Active, jobId) : state.State.Active.Remove(jobId);

    private static bool AddOnce(List<string> list, string item)
    {
        if (list.Contains(item))
            return false;
        list.Add(item);
        return true;
    }
}
