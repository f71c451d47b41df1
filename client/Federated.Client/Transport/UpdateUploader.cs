using Federated.Client.Hosting;
using Federated.Protos.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federated.Client.Transport;

/// <summary>A trained update kept on disk until the server has answered for it.</summary>
public sealed record PendingUpload(UpdateHeader Header, string PayloadPath, string HeaderPath);

/// <summary>
/// Keeps a trained update until the server gives a definite answer. The payload and its header are written
/// (and flushed to disk) under the work directory before the first byte is sent; any transport failure
/// (a broken stream, a refused connection, a restarting server) is retried with backoff. A retry first asks
/// how many bytes the server kept of the cut stream and sends only the rest (the whole update when it kept
/// none); the server recognises a repeat of an accepted update by its hash. Only "accepted" or a refusal
/// (the update is wrong, its task or round is gone) ends the attempt and removes the files; a daemon that
/// stops meanwhile finds them again on start (<see cref="ResumeAsync"/>).
/// </summary>
public sealed partial class UpdateUploader(CoordinatorConnection connection, IOptions<ClientOptions> options, TimeProvider time, ILogger<UpdateUploader> logger)
{
    private const string HeaderSuffix = ".header.json";
    private const string PayloadSuffix = ".safetensors";

    private string Folder => Path.Combine(options.Value.WorkDirectory, "updates");

    /// <summary>Writes the payload (through <paramref name="writePayload"/>) and then the header; the header's presence marks a complete update.</summary>
    public async Task<PendingUpload> SaveAsync(UpdateHeader header, Func<Stream, Task> writePayload, CancellationToken cancellationToken)
    {
        var name = header.TaskId;
        if (name.Length == 0 || Path.GetFileName(name) != name || name.StartsWith('.'))
            throw new ArgumentException($"task id '{name}' cannot name a file", nameof(header));
        Directory.CreateDirectory(Folder);
        var payload = Path.Combine(Folder, name + PayloadSuffix);
        var headerPath = Path.Combine(Folder, name + HeaderSuffix);
        await WriteDurablyAsync(payload, writePayload, cancellationToken);
        header.SizeBytes = new FileInfo(payload).Length;
        await WriteDurablyAsync(headerPath, stream => stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(header)), cancellationToken).AsTask(), cancellationToken);
        return new PendingUpload(header, payload, headerPath);
    }

    /// <summary>The complete updates left by an earlier run; a payload without its header (a write cut short) is removed.</summary>
    public IReadOnlyList<PendingUpload> Pending()
    {
        if (!Directory.Exists(Folder))
            return [];
        var found = new List<PendingUpload>();
        foreach (var payload in Directory.GetFiles(Folder, "*" + PayloadSuffix).Order(StringComparer.Ordinal))
        {
            var headerPath = payload[..^PayloadSuffix.Length] + HeaderSuffix;
            if (!File.Exists(headerPath))
            {
                File.Delete(payload);
                continue;
            }
            try
            {
                found.Add(new PendingUpload(UpdateHeader.Parser.ParseJson(File.ReadAllText(headerPath)), payload, headerPath));
            }
            catch (InvalidProtocolBufferException e)
            {
                LogUnreadable(logger, headerPath, e.Message);
                Remove(new PendingUpload(new UpdateHeader(), payload, headerPath));
            }
        }
        foreach (var temporary in Directory.GetFiles(Folder, "*.tmp"))
            File.Delete(temporary);
        return found;
    }

    /// <summary>Sends every update an earlier run left, each until the server answers for it.</summary>
    public async Task ResumeAsync(int chunkBytes, CancellationToken cancellationToken)
    {
        foreach (var upload in Pending())
        {
            LogResuming(logger, upload.Header.TaskId, upload.Header.JobId, upload.Header.Round);
            try
            {
                var reply = await SendAsync(upload, chunkBytes, cancellationToken, resume: true);
                LogResumed(logger, upload.Header.TaskId, reply.Sha256, reply.Duplicate);
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested && !TransientErrors.IsRefusalOfClient(e))
            {
                LogRefused(logger, upload.Header.TaskId, e.StatusCode.ToString(), e.Status.Detail);
            }
        }
    }

    /// <summary>
    /// Sends the update until the server accepts it (returns its reply) or refuses it (throws the refusal);
    /// either way the files are removed. Cancellation leaves them for the next start.
    /// </summary>
    /// <param name="resume">Whether an earlier try may have left bytes with the server (a daemon's restart); every retry resumes.</param>
    public async Task<UploadUpdateReply> SendAsync(PendingUpload upload, int chunkBytes, CancellationToken cancellationToken, bool resume = false)
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(options.Value.ReconnectMinSeconds), TimeSpan.FromSeconds(options.Value.ReconnectMaxSeconds));
        while (true)
        {
            try
            {
                var reply = await connection.UploadAsync(upload.Header, upload.PayloadPath, chunkBytes, cancellationToken, resume);
                if (reply.ResumedFrom > 0)
                    LogResumedAt(logger, upload.Header.TaskId, reply.ResumedFrom, upload.Header.SizeBytes);
                Remove(upload);
                return reply;
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested && !TransientErrors.IsTransportFailure(e) && !TransientErrors.IsRefusalOfClient(e))
            {
                Remove(upload); // a definite answer: the update is wrong, or its task or round is gone (a refused client keeps it)
                throw;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && TransientErrors.IsTransportFailure(e))
            {
                var wait = backoff.Next();
                LogRetry(logger, upload.Header.TaskId, e is RpcException r ? r.StatusCode.ToString() : e.GetType().Name, e.Message, wait.TotalSeconds);
                await Task.Delay(wait, time, cancellationToken);
                resume = true;
            }
        }
    }

    private static void Remove(PendingUpload upload)
    {
        File.Delete(upload.HeaderPath); // first: without it the payload counts as incomplete
        File.Delete(upload.PayloadPath);
    }

    /// <summary>Writes to a temporary file, flushes it to the disk and renames it into place.</summary>
    private static async Task WriteDurablyAsync(string path, Func<Stream, Task> write, CancellationToken cancellationToken)
    {
        var temporary = path + ".tmp";
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            await write(file);
            await file.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId}: upload failed ({Failure}: {Reason}); the update is kept on disk, sending it again in {Seconds:F1} s")]
    private static partial void LogRetry(ILogger logger, string taskId, string failure, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId}: the update was resumed at byte {Offset} of {Bytes}, the server having kept the bytes before it from a cut try")]
    private static partial void LogResumedAt(ILogger logger, string taskId, long offset, long bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId}: an update of job {JobId} round {Round} left by an earlier run is being sent")]
    private static partial void LogResuming(ILogger logger, string taskId, string jobId, int round);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId}: the kept update was accepted as {Sha256} (duplicate: {Duplicate})")]
    private static partial void LogResumed(ILogger logger, string taskId, string sha256, bool duplicate);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId}: the kept update was refused ({Status}: {Reason}); it is removed")]
    private static partial void LogRefused(ILogger logger, string taskId, string status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kept update header {Path} cannot be read ({Reason}); it is removed")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);
}
