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
/// or broken upload changes nothing the server had accepted before. A stream cut on the way, whose header named the
/// payload's SHA-256, leaves its bytes in <see cref="PartialUploads"/>; the client's next stream says where it
/// resumes (header.offset) and sends only the rest.
/// </summary>
public sealed partial class UpdateReceiver(IGrainFactory grains, AdapterStore store, PartialUploads partials, BaseModelRegistry models, IOptions<ServerOptions> options, FederatedMetrics metrics, ILogger<UpdateReceiver> logger)
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

        if (header.Offset < 0 || header.Offset >= header.SizeBytes)
            throw FederatedException.Invalid($"offset {header.Offset} is outside the update's {header.SizeBytes} bytes");
        var declared = header.Sha256.Length == 0 ? null : AdapterStore.RequireHash(header.Sha256);
        if (header.Offset > 0 && declared is null)
            throw FederatedException.Invalid("a resumed upload (offset > 0) must name the whole payload's sha256");

        var validator = new UpdateStreamValidator(layout, task.Rank, task.Alpha / task.Rank, header.SizeBytes);
        await using var pending = store.BeginWrite();
        if (header.Offset > 0)
            await ReplayHeldAsync(header, declared!, validator, pending, cancellationToken);
        string? trailer;
        try
        {
            trailer = await ReceiveDataAsync(requests, header, validator, pending, cancellationToken);
        }
        catch (Exception e) when (declared is not null && pending.Length > 0 && IsCut(e))
        {
            // The stream broke, not the update: keep what arrived (all of it passed the checks so far) for a resume.
            await partials.KeepAsync(pending, header.ClientId, header.JobId, header.TaskId, declared);
            throw;
        }

        if (trailer is null || pending.Length != header.SizeBytes)
        {
            var received = pending.Length;
            var kept = "nothing was kept, send the update again";
            if (declared is not null && received > 0 && trailer is null)
            {
                await partials.KeepAsync(pending, header.ClientId, header.JobId, header.TaskId, declared);
                kept = $"its first {received} bytes are kept: resume at that offset (GetUploadOffset)";
            }
            throw new FederatedException(FederatedError.DataLoss, $"upload ended after {received} of {header.SizeBytes} bytes{(trailer is null ? " without a trailer" : "")}; {kept}");
        }
        try
        {
            validator.Complete();
            var actual = pending.CurrentHash();
            if (!string.Equals(actual, trailer, StringComparison.Ordinal))
                throw new FederatedException(FederatedError.DataLoss, $"upload's SHA-256 is {actual} but its trailer says {trailer}; nothing was kept, send the update again");
            if (declared is not null && !string.Equals(actual, declared, StringComparison.Ordinal))
                throw new FederatedException(FederatedError.DataLoss, $"upload's SHA-256 is {actual} but its header says {declared}; nothing was kept, send the update again");
        }
        catch when (declared is not null)
        {
            partials.Discard(header.ClientId, header.JobId, header.TaskId, declared); // wrong as a whole: resuming it cannot help
            throw;
        }

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
        if (declared is not null)
            partials.Discard(header.ClientId, header.JobId, header.TaskId, declared);
        if (!receipt.Duplicate)
            metrics.UpdateAccepted(header.JobId);
        LogReceived(logger, header.ClientId, header.JobId, header.Round, sha256, size, receipt.Duplicate, header.Offset);
        return new UploadUpdateReply { Sha256 = sha256, Duplicate = receipt.Duplicate, Message = receipt.Message, ResumedFrom = header.Offset };
    }

    /// <summary>The bytes the server holds of this update (0: none), after the same checks of sender and task as an upload.</summary>
    public async Task<UploadOffsetReply> OffsetAsync(UploadOffsetRequest request, Access.ClientCaller caller)
    {
        caller.Require(request.ClientId);
        Identifiers.Require(request.JobId, "job_id");
        ClientInputLimits.CheckTaskId(request.TaskId);
        var sha256 = AdapterStore.RequireHash(request.Sha256);
        await OpenTaskOf(caller, request.ClientId, request.JobId, request.TaskId, request.Round);
        var held = partials.Held(request.ClientId, request.JobId, request.TaskId, sha256);
        return new UploadOffsetReply { Offset = held < request.SizeBytes ? held : 0 };
    }

    /// <summary>Feeds the bytes kept from the cut stream through the checks and into <paramref name="pending"/>, as if they had just arrived.</summary>
    private async Task ReplayHeldAsync(UpdateHeader header, string sha256, UpdateStreamValidator validator, PendingAdapter pending, CancellationToken cancellationToken)
    {
        var held = partials.Held(header.ClientId, header.JobId, header.TaskId, sha256);
        if (held != header.Offset)
            throw new FederatedException(FederatedError.DataLoss, $"this server holds {held} bytes of update {sha256}, not {header.Offset}; ask GetUploadOffset again (0: send it whole)");
        await using var part = partials.OpenRead(header.ClientId, header.JobId, header.TaskId, sha256);
        var buffer = new byte[1 << 16];
        int read;
        while ((read = await part.ReadAsync(buffer, cancellationToken)) > 0)
        {
            validator.Feed(buffer.AsSpan(0, read));
            await pending.Stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
    }

    /// <summary>Reads data messages up to the trailer (returned; null when the stream ended without one).</summary>
    private static async Task<string?> ReceiveDataAsync(IAsyncStreamReader<UploadUpdateRequest> requests, UpdateHeader header, UpdateStreamValidator validator, PendingAdapter pending, CancellationToken cancellationToken)
    {
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
        return trailer;
    }

    /// <summary>The stream itself failed (the connection cut, the caller or the server going away), not a check.</summary>
    private static bool IsCut(Exception e) => e is CallerHungUpException or IOException or OperationCanceledException or RpcException;

    private async Task<TaskAssignment> CheckSender(UpdateHeader header, Access.ClientCaller caller)
    {
        caller.Require(header.ClientId);
        Identifiers.Require(header.JobId, "job_id");
        ClientInputLimits.CheckHeader(header, options.Value.MaxSamplesPerUpdate);
        var task = await OpenTaskOf(caller, header.ClientId, header.JobId, header.TaskId, header.Round);
        if (header.Rank != task.Rank)
            throw FederatedException.Invalid($"update rank {header.Rank} does not match rank {task.Rank} assigned for task {task.TaskId}");
        if (Math.Abs(header.Alpha - task.Alpha) > 1e-9 * task.Alpha)
            throw FederatedException.Invalid($"update alpha {header.Alpha} does not match alpha {task.Alpha} assigned for task {task.TaskId}");
        return task;
    }

    /// <summary>The caller's own task, still open: what an upload and the question where to resume one are about.</summary>
    private async Task<TaskAssignment> OpenTaskOf(Access.ClientCaller caller, string clientId, string jobId, string taskId, int round)
    {
        Access.ClientCaller.RequireOwnTask(taskId, clientId);
        if (caller.Legacy && !await grains.GetGrain<IClientGrain>(clientId).IsEnrolled())
            throw FederatedException.NotFound($"client '{clientId}' is not enrolled; enrol before uploading");
        return await grains.GetGrain<ISchedulerGrain>(jobId).GetTask(clientId, taskId, round);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Update from client {ClientId} for job {JobId} round {Round} stored as {Sha256} ({Bytes} bytes, duplicate: {Duplicate}, resumed at byte {ResumedFrom})")]
    private static partial void LogReceived(ILogger logger, string clientId, string jobId, int round, string sha256, long bytes, bool duplicate, long resumedFrom);
}
