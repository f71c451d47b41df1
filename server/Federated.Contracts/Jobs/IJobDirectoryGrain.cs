namespace Federated.Contracts.Jobs;

/// <summary>The list of jobs (one grain, key 0), and which of them are handing out tasks.</summary>
public interface IJobDirectoryGrain : IGrainWithIntegerKey
{
    Task Register(string jobId, bool active);

    Task SetActive(string jobId, bool active);

    Task<string[]> ListJobs();

    Task<string[]> ListActiveJobs();
}
