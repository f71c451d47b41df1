namespace Federated.Server.Storage.Blobs;

/// <summary>
/// Adapter bytes as files under one folder (a silo's data directory, or a mount every silo shares): kept blobs at
/// sha256/ab/abcd….safetensors (the layout earlier versions wrote, so existing data directories keep working),
/// scratch blobs at scratch/ab/abcd….safetensors. A blob is placed by renaming a complete, fsynced file into place
/// and fsyncing the folder after (<see cref="DurableFiles"/>), so a stored blob survives power loss and a reader
/// never sees half of one; two silos renaming the same hash at once leave one file with the same bytes.
/// </summary>
public sealed class FileAdapterBlobs(string root) : IAdapterBlobs
{
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>The file a kept blob is (or would be) stored in.</summary>
    public string PathOf(string sha256) => Place("sha256", sha256);

    /// <summary>The file a scratch blob is (or would be) stored in.</summary>
    public string ScratchPathOf(string sha256) => Place("scratch", sha256);

    public bool KeepsFiles => true;

    public string? LocalFile(string sha256)
    {
        var kept = PathOf(sha256);
        if (File.Exists(kept))
            return kept;
        var scratch = ScratchPathOf(sha256);
        return File.Exists(scratch) ? scratch : null;
    }

    public Task<long?> SizeAsync(string sha256, CancellationToken cancellationToken = default)
        => Task.FromResult(LocalFile(sha256) is { } path ? new FileInfo(path).Length : (long?)null);

    public Task<Stream?> OpenReadAsync(string sha256, CancellationToken cancellationToken = default)
    {
        foreach (var path in new[] { PathOf(sha256), ScratchPathOf(sha256) })
        {
            try
            {
                return Task.FromResult<Stream?>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, useAsync: true));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // not stored this way: try the other, then report it missing
            }
        }
        return Task.FromResult<Stream?>(null);
    }

    public Task PutAsync(string sha256, string completedFile, bool scratch, CancellationToken cancellationToken = default)
    {
        // A kept blob is enough for a scratch put; a kept put lands in sha256/ even if a scratch copy exists, so
        // deleting that copy later never takes bytes a history names.
        var path = scratch && File.Exists(PathOf(sha256)) ? null : scratch ? ScratchPathOf(sha256) : PathOf(sha256);
        if (path is null || File.Exists(path))
        {
            File.Delete(completedFile); // same bytes already stored
            return Task.CompletedTask;
        }
        DurableFiles.CreateDirectoryDurably(Path.GetDirectoryName(path)!);
        try
        {
            DurableFiles.MoveDurably(completedFile, path, overwrite: false); // the bytes were fsynced by the caller
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(completedFile); // another writer (another silo on a shared mount) placed the same bytes first
        }
        return Task.CompletedTask;
    }

    public Task DeleteScratchAsync(string sha256, CancellationToken cancellationToken = default)
    {
        try
        {
            File.Delete(ScratchPathOf(sha256));
        }
        catch (DirectoryNotFoundException)
        {
            // no scratch blob under this prefix: nothing to delete
        }
        return Task.CompletedTask;
    }

    private string Place(string kind, string sha256) => Path.Combine(Root, kind, sha256[..2], sha256 + ".safetensors");
}
