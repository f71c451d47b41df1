using Federated.Contracts;
using Federated.Contracts.Compaction;
using Federated.Contracts.Jobs;
using Federated.Server.Hosting;
using Federated.Server.Jobs;
using Federated.Server.Observability;
using Federated.Server.Storage;
using Microsoft.Extensions.Options;
using Federated.Protos.V1;
using Grpc.Core;

namespace Federated.Server.Transport;

/// <summary>The operators' door: create, inspect, watch and steer jobs; list and steer clients (roles: <see cref="Access.OperatorMethods"/>).</summary>
public sealed class OperatorService(IGrainFactory grains, JobCreation creation, OperatorActions actions, AdapterStore store, FederatedMetrics metrics, IOptions<ServerOptions> options) : Operator.OperatorBase
{
    private static readonly TimeSpan WatchSlice = TimeSpan.FromSeconds(15);

    public override async Task<JobStatus> CreateJob(CreateJobRequest request, ServerCallContext context)
    {
        var spec = request.Spec ?? throw Contracts.Errors.FederatedException.Invalid("spec is required");
        return ProtoMapping.ToStatus(await creation.CreateAsync(spec));
    }

    public override async Task<JobStatus> GetJob(GetJobRequest request, ServerCallContext context)
        => ProtoMapping.ToStatus(await grains.GetGrain<IJobGrain>(Identifiers.Require(request.JobId, "job_id")).GetSnapshot());

    public override async Task<ListJobsReply> ListJobs(ListJobsRequest request, ServerCallContext context)
    {
        var reply = new ListJobsReply();
        foreach (var jobId in await grains.GetGrain<IJobDirectoryGrain>(0).ListJobs())
        {
            try
            {
                reply.Jobs.Add(ProtoMapping.ToStatus(await grains.GetGrain<IJobGrain>(jobId).GetSnapshot()));
            }
            catch (Exception e) when (!context.CancellationToken.IsCancellationRequested)
            {
                // One job that cannot be read is listed as failed, with why; the others are listed as they are.
                reply.Jobs.Add(new Federated.Protos.V1.JobStatus { JobId = jobId, Spec = new JobSpec { JobId = jobId }, State = Federated.Protos.V1.JobState.Failed, Error = $"the server cannot read job '{jobId}': {e.Message}" });
            }
        }
        return reply;
    }

    public override async Task WatchJob(WatchJobRequest request, IServerStreamWriter<JobStatus> responseStream, ServerCallContext context)
    {
        var job = grains.GetGrain<IJobGrain>(Identifiers.Require(request.JobId, "job_id"));
        var snapshot = await job.GetSnapshot();
        await responseStream.WriteAsync(ProtoMapping.ToStatus(snapshot), context.CancellationToken);
        while (!snapshot.IsSettled && !context.CancellationToken.IsCancellationRequested)
        {
            var next = await job.WaitForChange(snapshot.ChangeCount, WatchSlice);
            if (next.ChangeCount == snapshot.ChangeCount)
                continue;
            snapshot = next;
            await responseStream.WriteAsync(ProtoMapping.ToStatus(snapshot), context.CancellationToken);
        }
    }

    public override async Task DownloadGlobalAdapter(DownloadGlobalAdapterRequest request, IServerStreamWriter<AdapterChunk> responseStream, ServerCallContext context)
    {
        var jobId = Identifiers.Require(request.JobId, "job_id");
        if (request.ThroughRound < 0)
            throw Contracts.Errors.FederatedException.Invalid($"through_round must be 0 (the last) or a round number, got {request.ThroughRound}");
        var global = await grains.GetGrain<ICompactionGrain>(jobId).GetGlobal(request.ThroughRound);
        await AdapterStreaming.SendAsync(store, global.Sha256, responseStream, options.Value.MaxChunkBytes, metrics, context.CancellationToken);
    }

    public override async Task<JobStatus> PauseJob(JobActionRequest request, ServerCallContext context)
        => ProtoMapping.ToStatus(await actions.JobAsync(request.JobId, "pause"));

    public override async Task<JobStatus> ResumeJob(JobActionRequest request, ServerCallContext context)
        => ProtoMapping.ToStatus(await actions.JobAsync(request.JobId, "resume"));

    public override async Task<JobStatus> StopJob(JobActionRequest request, ServerCallContext context)
        => ProtoMapping.ToStatus(await actions.JobAsync(request.JobId, "stop"));

    public override async Task<ListClientsReply> ListClients(ListClientsRequest request, ServerCallContext context)
    {
        var reply = new ListClientsReply();
        reply.Clients.AddRange((await actions.ListClientsAsync(context.CancellationToken)).Select(ProtoMapping.ToStatus));
        return reply;
    }

    public override async Task<ClientStatus> PauseClient(ClientActionRequest request, ServerCallContext context)
        => ProtoMapping.ToStatus(await actions.ClientAsync(request.ClientId, "pause"));

    public override async Task<ClientStatus> ResumeClient(ClientActionRequest request, ServerCallContext context)
        => ProtoMapping.ToStatus(await actions.ClientAsync(request.ClientId, "resume"));

    public override async Task<ClientStatus> DrainClient(ClientActionRequest request, ServerCallContext context)
        => ProtoMapping.ToStatus(await actions.ClientAsync(request.ClientId, "drain"));

    public override async Task<ClientStatus> RemoveClient(ClientActionRequest request, ServerCallContext context)
        => ProtoMapping.ToStatus(await actions.ClientAsync(request.ClientId, "remove"));
}
