using Federated.Contracts;
using Federated.Contracts.Clients;
using Federated.Contracts.Errors;
using Federated.Contracts.Jobs;
using Federated.Contracts.Scheduling;
using Federated.Core.Adapters;
using Federated.Core.Model;
using Federated.Protos.V1;
using Federated.Server.Hosting;
using Federated.Server.Models;
using Federated.Server.Observability;
using Federated.Server.Storage;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federated.Server.Transport;

/// <summary>
/// Receives one update stream: header, chunks, trailer. Everything is checked before anything is kept —
/// the sender and its task, then the payload's header and values as they arrive, then its length and hash —
/// and the bytes go to a temporary file that becomes a stored adapter only when all checks pass. A refused
/// or broken upload changes nothing the server had accepted before.
/// </summary>
public sealed partial class UpdateReceiver(IGrainFactory grains, AdapterStore store, BaseModelRegistry models, IOptions<ServerOptions> options, FederatedMetrics metrics, ILogger<UpdateReceiver> logger)
{
    /// <summary>Room allowed for the safetensors header on top of the factors' bytes.</summary>
    private const long HeaderAllowance = 1024 * 1024;

    /// <param name="caller">Who sent it (<see cref="Access.ClientAuthentication"/>): the header must name that client and one of its tasks.</param>
    public async Task<UploadUpdateReply> ReceiveAsync(IAsyncStreamReader<UploadUpdateRequest> requests, Access.ClientCaller caller, CancellationToken cancellationToken)
    {
        try
        {
            return await ReceiveCheckedAsync(new CountingUploadReader(requests, metrics), caller, cancellationToken);
        }
        catch (FederatedException e)
        {
            metrics.UpdateRefused(e.Error);
            throw;
        }
        catch (Exception e) when (e is AdapterFormatException or Core.Tensors.SafeTensorsFormatException)
        {
            metrics.UpdateRefused(FederatedError.InvalidArgument);
            throw;
        }
    }

    private async Task<UploadUpdateReply> ReceiveCheckedAsync(IAsyncStreamReader<UploadUpdateRequest> requests, Access.ClientCaller caller, CancellationToken cancellationToken)
    {
        if (!await requests.MoveNext(cancellationToken))
            throw FederatedException.Invalid("the upload stream is empty; it must start with a header");
        if (requests.Current.PartCase != UploadUpdateRequest.PartOneofCase.Header)
            throw FederatedException.Invalid("the first message of an upload must be a header");
        var header = requests.Current.Header;
        var task = await CheckSender(header, caller);
        var limit = options.Value.MaxUpdateBytes;
        var layout = TargetModules.Layout(models.Describe(task.BaseModel), task.TargetModules);
        var expected = layout.DataBytes(task.Rank);
        if (header.SizeBytes > limit)
            throw new FederatedException(FederatedError.ResourceExhausted, $"update of {header.SizeBytes} bytes exceeds the server's limit of {limit} bytes");
        if (header.SizeBytes <= expected || header.SizeBytes > expected + HeaderAllowance)
            throw FederatedException.Invalid($"declared size {header.SizeBytes} bytes does not fit a rank-{task.Rank} update of this job ({expected} bytes of factors plus a header)");

        var validator = new UpdateStreamValidator(layout, task.Rank, task.Alpha / task.Rank, header.SizeBytes);
        await using var pending = store.BeginWrite();
        string? trailer = null;
        while (await requests.MoveNext(cancellationToken))
        {
            var message = requests.Current;
            switch (message.PartCase)
            {
                case UploadUpdateRequest.PartOneofCase.Data when trailer is null:
                    if (pending.Length + message.Data.Length > header.SizeBytes)
                        throw FederatedException.Invalid($"upload carries more than its declared {header.SizeBytes} bytes");
                    validator.Feed(message.Data.Span);
                    await pending.Stream.WriteAsync(message.Data.Memory, cancellationToken);
                    break;
                case UploadUpdateRequest.PartOneofCase.Trailer when trailer is null:
                    trailer = message.Trailer.Sha256;
                    break;
                case UploadUpdateRequest.PartOneofCase.Header:
                    throw FederatedException.Invalid("an upload takes one header; a second one arrived");
                case UploadUpdateRequest.PartOneofCase.None:
                    throw FederatedException.Invalid("an upload message carried neither header, data nor trailer");
                default:
                    throw FederatedException.Invalid("the trailer must be the last message of an upload");
            }
        }

        if (trailer is null || pending.Length != header.SizeBytes)
            throw new FederatedException(FederatedError.DataLoss, $"upload ended after {pending.Length} of {header.SizeBytes} bytes{(trailer is null ? " without a trailer" : "")}; nothing was kept, send the update again");
        validator.Complete();
        var actual = pending.CurrentHash();
        if (!string.Equals(actual, trailer, StringComparison.Ordinal))
            throw new FederatedException(FederatedError.DataLoss, $"upload's SHA-256 is {actual} but its trailer says {trailer}; nothing was kept, send the update again");

        var (sha256, size) = await pending.CommitAsync();
        var receipt = await grains.GetGrain<ISchedulerGrain>(header.JobId).SubmitUpdate(new UpdateSubmission
        {
            ClientId = header.ClientId,
            TaskId = header.TaskId,
            Round = header.Round,
            Sha256 = sha256,
            SizeBytes = size,
            NumSamples = header.NumSamples,
            Stats = ProtoMapping.ToStats(header.Stats),
        });
        if (!receipt.Duplicate)
            metrics.UpdateAccepted(header.JobId);
        LogReceived(logger, header.ClientId, header.JobId, header.Round, sha256, size, receipt.Duplicate);
        return new UploadUpdateReply { Sha256 = sha256, Duplicate = receipt.Duplicate, Message = receipt.Message };
    }

    private async Task<TaskAssignment> CheckSender(UpdateHeader header, Access.ClientCaller caller)
    {
        caller.Require(header.ClientId);
        Identifiers.Require(header.JobId, "job_id");
        ClientInputLimits.CheckHeader(header, options.Value.MaxSamplesPerUpdate);
        Access.ClientCaller.RequireOwnTask(header.TaskId, header.ClientId);
        if (caller.Legacy && !await grains.GetGrain<IClientGrain>(header.ClientId).IsEnrolled())
            throw FederatedException.NotFound($"client '{header.ClientId}' is not enrolled; enrol before uploading");
        var task = await grains.GetGrain<ISchedulerGrain>(header.JobId).GetTask(header.ClientId, header.TaskId, header.Round);
        if (header.Rank != task.Rank)
            throw FederatedException.Invalid($"update rank {header.Rank} does not match rank {task.Rank} assigned for task {task.TaskId}");
        if (Math.Abs(header.Alpha - task.Alpha) > 1e-9 * task.Alpha)
            throw FederatedException.Invalid($"update alpha {header.Alpha} does not match alpha {task.Alpha} assigned for task {task.TaskId}");
        return task;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Update from client {ClientId} for job {JobId} round {Round} stored as {Sha256} ({Bytes} bytes, duplicate: {Duplicate})")]
    private static partial void LogReceived(ILogger logger, string clientId, string jobId, int round, string sha256, long bytes, bool duplicate);
}
