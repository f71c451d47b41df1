using Federated.Server.Storage;
using Federated.Server.Storage.Blobs;

namespace Federated.Server.Tests.Storage;

public class DurableAdapterWriteTests
{
    [Fact]
    public async Task A_stored_adapter_has_its_folder_synced_after_the_rename()
    {
        using var folder = new TemporaryDirectory();
        var store = new AdapterStore(folder.Path);
        var synced = new List<string>();
        void Record(string path)
        {
            if (path.StartsWith(folder.Path, StringComparison.Ordinal))
                lock (synced)
                    synced.Add(path);
        }

        DurableFiles.DirectorySynced += Record;
        string sha256;
        try
        {
            (sha256, _) = await store.WriteAsync(stream => stream.WriteAsync(new byte[] { 1, 2, 3 }).AsTask());
        }
        finally
        {
            DurableFiles.DirectorySynced -= Record;
        }
        var stored = ((FileAdapterBlobs)store.Blobs).PathOf(sha256);
        Assert.True(File.Exists(stored));
        Assert.Equal(Path.GetDirectoryName(stored), synced[^1]); // last: the rename's folder, once the name is in place
        Assert.Contains(Path.Combine(store.Root, "sha256"), synced); // the new sha256/ab folder made durable in its parent
    }
}
