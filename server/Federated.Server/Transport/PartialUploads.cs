using System.Security.Cryptography;
using System.Text;
using Federated.Server.Hosting;
using Federated.Server.Storage;
using Microsoft.Extensions.Options;

namespace Federated.Server.Transport;

/// <summary>
/// The bytes of uploads cut on the way, kept so the client's next stream sends only the rest. One part per client
/// (a new one replaces its others), so a client's parts never hold more than one update's bytes; a part is named
/// by its job, task and the whole payload's SHA-256, so it can only complete that very update, and a resumed stream
/// is checked from its first byte again (the kept bytes are re-read, re-validated and re-hashed here: a local
/// read, not the network). Parts live on this silo's disk under the data directory: a retry that lands on another
/// silo finds none and sends the update whole. Parts older than <see cref="Lifetime"/> are dropped at start.
/// </summary>
public sealed partial class PartialUploads
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(1);
    private const string Suffix = ".part";

    private readonly string _folder;
    private readonly ILogger<PartialUploads> _logger;

    public PartialUploads(IOptions<ServerOptions> options, TimeProvider time, ILogger<PartialUploads> logger)
    {
        _folder = Path.Combine(options.Value.DataPath, "uploads-partial");
        _logger = logger;
        DropOlderThan(time.GetUtcNow() - Lifetime);
    }

    /// <summary>The bytes held of this update (0: none).</summary>
    public long Held(string clientId, string jobId, string taskId, string sha256)
    {
        var path = PathOf(clientId, jobId, taskId, sha256);
        return File.Exists(path) ? new FileInfo(path).Length : 0;
    }

    /// <summary>Reads the bytes held, in order, for a resumed stream to re-check.</summary>
    public FileStream OpenRead(string clientId, string jobId, string taskId, string sha256)
        => new(PathOf(clientId, jobId, taskId, sha256), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);

    /// <summary>Keeps what <paramref name="pending"/> received as this update's part, replacing the client's other parts.</summary>
    public async Task KeepAsync(PendingAdapter pending, string clientId, string jobId, string taskId, string sha256)
    {
        var path = PathOf(clientId, jobId, taskId, sha256);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        foreach (var other in Directory.EnumerateFiles(Path.GetDirectoryName(path)!, "*" + Suffix).Where(p => p != path))
            File.Delete(other);
        var length = await pending.KeepAsync(path);
        LogKept(_logger, clientId, jobId, taskId, length);
    }

    /// <summary>Drops the part of this update, if any (it completed, or proved wrong).</summary>
    public void Discard(string clientId, string jobId, string taskId, string sha256)
    {
        var path = PathOf(clientId, jobId, taskId, sha256);
        if (File.Exists(path))
            File.Delete(path);
    }

    private string PathOf(string clientId, string jobId, string taskId, string sha256)
    {
        // Client ids are file-name safe (Identifiers); the task is hashed rather than trusted as a name.
        var task = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(jobId + "\n" + taskId)))[..32];
        return Path.Combine(_folder, clientId, $"{task}-{sha256}{Suffix}");
    }

    private void DropOlderThan(DateTimeOffset limit)
    {
        if (!Directory.Exists(_folder))
            return;
        foreach (var part in Directory.EnumerateFiles(_folder, "*", SearchOption.AllDirectories))
        {
            if (File.GetLastWriteTimeUtc(part) < limit.UtcDateTime)
                File.Delete(part);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload from client {ClientId} for job {JobId} task {TaskId} was cut after {Bytes} bytes; they are kept for its resume")]
    private static partial void LogKept(ILogger logger, string clientId, string jobId, string taskId, long bytes);
}
