using Federated.Contracts;
using Federated.Contracts.Clients;
using Federated.Contracts.Compaction;
using Federated.Contracts.Errors;
using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;
using Federated.Protos.V1;
using Federated.Server.Access;
using Federated.Server.Hosting;
using Federated.Server.Observability;
using Federated.Server.Storage;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federated.Server.Transport;

/// <summary>The client daemons' door: translates each call into grain calls and back.</summary>
public sealed partial class CoordinatorService(
    IGrainFactory grains,
    Access.Enrolment enrolment,
    AdapterStore store,
    UpdateReceiver receiver,
    FederatedMetrics metrics,
    IOptions<ServerOptions> options,
    TimeProvider time,
    ILogger<CoordinatorService> logger) : Coordinator.CoordinatorBase
{
    public override async Task<EnrolReply> Enrol(EnrolRequest request, ServerCallContext context)
    {
        var credential = await enrolment.EnrolAsync(ClientCaller.Of(context), request);
        var o = options.Value;
        return new EnrolReply
        {
            ClientId = request.ClientId,
            HeartbeatIntervalSeconds = o.HeartbeatIntervalSeconds,
            MaxChunkBytes = o.MaxChunkBytes,
            MaxUpdateBytes = o.MaxUpdateBytes,
            Credential = credential ?? "",
        };
    }

    public override async Task<HeartbeatReply> Heartbeat(HeartbeatRequest request, ServerCallContext context)
    {
        var clientId = ClientCaller.Of(context).Require(request.ClientId);
        ClientInputLimits.CheckHeartbeat(request.Progress, request.TaskId);
        ClientCaller.RequireOwnTask(request.TaskId, clientId);
        if (!await grains.GetGrain<IClientGrain>(clientId).Heartbeat(ProtoMapping.ToActivity(request.Activity), request.TaskId, request.Progress))
            throw NotEnrolled(clientId);
        return new HeartbeatReply();
    }

    public override async Task<PollTaskReply> PollTask(PollTaskRequest request, ServerCallContext context)
    {
        var started = metrics.Timestamp();
        var reply = await Poll(request, context);
        metrics.PollAnswered(started, gotTask: reply.OutcomeCase == PollTaskReply.OutcomeOneofCase.Task);
        return reply;
    }

    private async Task<PollTaskReply> Poll(PollTaskRequest request, ServerCallContext context)
    {
        var clientId = await RequireEnrolled(request.ClientId, context);
        var wait = TimeSpan.FromSeconds(Math.Clamp(request.WaitSeconds, 0, options.Value.MaxPollWaitSeconds));
        var deadline = time.GetUtcNow() + wait;
        var client = grains.GetGrain<IClientGrain>(clientId);
        if (!await client.MayTakeTasks())
        {
            // Paused, draining or removed by an operator: hold the poll as if no work came (in slices, as a grain
            // call must stay short), then say why; a client resumed meanwhile goes on to look for work at once.
            var active = false;
            for (var left = wait; !active && left > TimeSpan.Zero && !context.CancellationToken.IsCancellationRequested; left = deadline - time.GetUtcNow())
                active = await client.WaitUntilActive(Min(left, MaxWaitSlice));
            if (!active)
                return new PollTaskReply { NoTask = new NoTask { RetryAfterMs = 0, Reason = $"client '{clientId}' is {(await client.GetSnapshot()).Admission.ToString().ToLowerInvariant()} by an operator" } };
        }
        var directory = grains.GetGrain<IJobDirectoryGrain>(0);
        var reason = "no job is running";
        while (true)
        {
            var waits = new List<Task>();
            var remaining = deadline - time.GetUtcNow();
            foreach (var jobId in await directory.ListActiveJobs())
            {
                var scheduler = grains.GetGrain<ISchedulerGrain>(jobId);
                TaskOffer offer;
                try
                {
                    offer = await scheduler.RequestTask(clientId);
                }
                catch (Exception e) when (!context.CancellationToken.IsCancellationRequested)
                {
                    // One job's fault stays in that job: the client is offered the others' work.
                    LogJobSkipped(logger, jobId, clientId, e.Message);
                    continue;
                }
                if (offer.Task is { } task)
                    return new PollTaskReply { Task = ProtoMapping.ToTask(task) };
                reason = offer.Reason;
                if (remaining > TimeSpan.Zero)
                    waits.Add(scheduler.WaitForChange(offer.ChangeCount, Min(remaining, MaxWaitSlice)));
            }
            if (remaining <= TimeSpan.Zero || context.CancellationToken.IsCancellationRequested)
                return new PollTaskReply { NoTask = new NoTask { RetryAfterMs = 0, Reason = reason } };
            // New jobs appear without a signal from their scheduler: look again at least every slice.
            waits.Add(Task.Delay(Min(remaining, MaxWaitSlice), time, context.CancellationToken));
            await Task.WhenAny(waits);
        }
    }

    public override async Task DownloadAdapter(DownloadAdapterRequest request, IServerStreamWriter<AdapterChunk> responseStream, ServerCallContext context)
    {
        await RequireEnrolled(request.ClientId, context);
        await AdapterStreaming.SendAsync(store, request.Sha256, responseStream, options.Value.MaxChunkBytes, metrics, context.CancellationToken);
    }

    public override Task<UploadUpdateReply> UploadUpdate(IAsyncStreamReader<UploadUpdateRequest> requestStream, ServerCallContext context)
        => receiver.ReceiveAsync(requestStream, ClientCaller.Of(context), context.CancellationToken);

    public override Task<UploadOffsetReply> GetUploadOffset(UploadOffsetRequest request, ServerCallContext context)
        => receiver.OffsetAsync(request, ClientCaller.Of(context));

    public override async Task<ReportMetricsReply> ReportMetrics(ReportMetricsRequest request, ServerCallContext context)
    {
        var clientId = await RequireEnrolled(request.ClientId, context);
        var jobId = Identifiers.Require(request.JobId, "job_id");
        ClientInputLimits.CheckTaskId(request.TaskId);
        ClientCaller.RequireOwnTask(request.TaskId, clientId);
        ClientInputLimits.CheckMetrics(request.Metrics);
        // The task may be answered and its round closed by now (metrics follow the upload), so the checks are
        // that the job exists, the round is one of it and the task id is one of this job's for this client.
        var job = await grains.GetGrain<IJobGrain>(jobId).GetSnapshot();
        if (request.Round < 1 || request.Round > job.Config.Rounds)
            throw FederatedException.Invalid($"round: job '{jobId}' has rounds 1 to {job.Config.Rounds}, got {request.Round}");
        ClientInputLimits.CheckTaskOf(request.TaskId, jobId, clientId);
        foreach (var (name, value) in request.Metrics)
            LogMetric(logger, clientId, jobId, request.Round, name, value);
        return new ReportMetricsReply();
    }

    public override async Task<AbandonTaskReply> AbandonTask(AbandonTaskRequest request, ServerCallContext context)
    {
        var clientId = await RequireEnrolled(request.ClientId, context);
        var jobId = Identifiers.Require(request.JobId, "job_id");
        var taskId = ClientInputLimits.CheckTaskId(request.TaskId);
        ClientCaller.RequireOwnTask(taskId, clientId);
        await grains.GetGrain<ISchedulerGrain>(jobId).AbandonTask(clientId, taskId, request.Round, ClientInputLimits.Sanitize(request.Reason));
        return new AbandonTaskReply();
    }

    public override async Task<GetCatchUpReply> GetCatchUp(GetCatchUpRequest request, ServerCallContext context)
    {
        await RequireEnrolled(request.ClientId, context);
        var jobId = Identifiers.Require(request.JobId, "job_id");
        var catchUp = await grains.GetGrain<ICompactionGrain>(jobId).GetCatchUp(request.Rank, request.AfterRound, request.ThroughRound);
        var reply = new GetCatchUpReply
        {
            Update = new AdapterRef { Round = catchUp.ThroughRound, Sha256 = catchUp.Sha256, SizeBytes = catchUp.SizeBytes, Rank = catchUp.Rank },
            InputRank = catchUp.InputRank,
            RelativeError = catchUp.RelativeError,
        };
        reply.Covers.AddRange(catchUp.Covers);
        return reply;
    }

    private static readonly TimeSpan MaxWaitSlice = TimeSpan.FromSeconds(5);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>The caller's own id; a credential proves enrolment, a shared-token caller is looked up.</summary>
    private async Task<string> RequireEnrolled(string claimed, ServerCallContext context)
    {
        var caller = ClientCaller.Of(context);
        var clientId = caller.Require(claimed);
        if (caller.Legacy && !await grains.GetGrain<IClientGrain>(clientId).IsEnrolled())
            throw NotEnrolled(clientId);
        return clientId;
    }

    private static FederatedException NotEnrolled(string clientId)
        => FederatedException.NotFound($"client '{clientId}' is not enrolled; call Enrol first");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} could not answer client {ClientId}'s request for work, which goes on to the other jobs: {Reason}")]
    private static partial void LogJobSkipped(ILogger logger, string jobId, string clientId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Client {ClientId} job {JobId} round {Round}: {Metric} = {Value}")]
    private static partial void LogMetric(ILogger logger, string clientId, string jobId, int round, string metric, double value);
}
