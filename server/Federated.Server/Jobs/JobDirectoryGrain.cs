using Federated.Contracts.Jobs;
using Federated.Server.Hosting;

namespace Federated.Server.Jobs;

/// <summary>Persisted list of jobs and which of them hand out tasks.</summary>
public sealed class JobDirectoryState
{
    public List<string> Jobs { get; set; } = [];

    public List<string> Active { get; set; } = [];
}

[GrainType("job-directory")]
public sealed class JobDirectoryGrain(
    [PersistentState("jobs", StorageNames.State)] IPersistentState<JobDirectoryState> state) : Grain, IJobDirectoryGrain
{
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
