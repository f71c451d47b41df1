using System.Security.Cryptography;
using Federated.Contracts;
using Federated.Contracts.Jobs;
using Federated.Protos.V1;
using Federated.Server.Transport;

namespace Federated.Server.Jobs;

/// <summary>
/// Creates a job from an operator's spec, for both doors that do it (the Operator gRPC service and the
/// dashboard): names it when the spec does not, checks the name, and hands the configuration to its grain.
/// </summary>
public sealed class JobCreation(IGrainFactory grains, TimeProvider time)
{
    public async Task<JobSnapshot> CreateAsync(JobSpec spec)
    {
        var jobId = string.IsNullOrEmpty(spec.JobId) ? NewJobId() : Identifiers.Require(spec.JobId, "job_id");
        return await grains.GetGrain<IJobGrain>(jobId).Create(ProtoMapping.ToConfig(spec));
    }

    /// <summary>Sorts by creation time; the random tail keeps two jobs made in the same second apart.</summary>
    private string NewJobId()
        => $"job-{time.GetUtcNow():yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
}
