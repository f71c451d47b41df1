namespace Federated.Server.Storage.Blobs;

/// <summary>
/// A stored adapter as a seekable file on this machine, for readers that seek (aggregation shards, module names),
/// held until disposed. With files it is the stored file itself; otherwise a copy in this silo's cache.
/// </summary>
public sealed class LocalAdapterFile : IAsyncDisposable
{
    private Action? _release;

    internal LocalAdapterFile(string path, Action? release)
    {
        Path = path;
        _release = release;
    }

    public string Path { get; }

    public ValueTask DisposeAsync()
    {
        Interlocked.Exchange(ref _release, null)?.Invoke();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// This silo's copies of blobs from a backend that keeps no files (PostgreSQL), under cache/&lt;owner&gt;/. A copy
/// is checked against its hash while it is written, shared by everyone in this process holding it at once (the
/// aggregator holds a round's inputs while its shards on this silo read them), and deleted when the last holder lets
/// go: the cache is bounded by the adapters in use, never grows with history, and needs no eviction policy.
/// </summary>
internal sealed class LocalAdapterCopies
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly string _folder;

    /// <summary>Takes <paramref name="folder"/> as this silo's alone: whatever an earlier run left there is removed.</summary>
    public LocalAdapterCopies(string folder)
    {
        _folder = folder;
        if (Directory.Exists(folder))
            Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
    }

    public async Task<LocalAdapterFile> AcquireAsync(string sha256, Func<Task<VerifyingStream>> open)
    {
        Entry entry;
        lock (_entries)
        {
            if (!_entries.TryGetValue(sha256, out entry!))
            {
                entry = new Entry(System.IO.Path.Combine(_folder, sha256 + ".safetensors"));
                // On the thread pool, not cancelled by one waiter: holders in other grains may share it.
                entry.Ready = Task.Run(() => CopyAsync(entry.Path, open));
                _entries.Add(sha256, entry);
            }
            entry.Holders++;
        }
        try
        {
            await entry.Ready.ConfigureAwait(false);
        }
        catch
        {
            Release(sha256, entry);
            throw;
        }
        return new LocalAdapterFile(entry.Path, () => Release(sha256, entry));
    }

    /// <summary>How many copies are on disk now (for tests).</summary>
    internal int Count
    {
        get
        {
            lock (_entries)
                return _entries.Count;
        }
    }

    private void Release(string sha256, Entry entry)
    {
        lock (_entries)
        {
            if (--entry.Holders > 0)
                return;
            _entries.Remove(sha256);
            File.Delete(entry.Path);
        }
    }

    private static async Task CopyAsync(string path, Func<Task<VerifyingStream>> open)
    {
        var partial = path + ".partial";
        try
        {
            await using (var source = await open().ConfigureAwait(false))
            await using (var target = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                await source.CopyToAsync(target, 1 << 20).ConfigureAwait(false); // the end of the copy is the hash check
            File.Move(partial, path, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }
    }

    private sealed class Entry(string path)
    {
        public string Path { get; } = path;

        public Task Ready { get; set; } = Task.CompletedTask;

        public int Holders { get; set; }
    }
}
