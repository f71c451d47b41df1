using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Federated.Server.Cluster;
using Federated.Server.Storage;
using Federated.Server.Storage.Blobs;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Storage;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationMeasuringCollection
{
    public const string Name = "allocation measuring";
}

/// <summary>
/// The PostgreSQL backend streams: a large adapter goes in and comes back out chunk by chunk, never whole in
/// memory. Measured as bytes allocated by the whole process (the class runs alone), which would be at least the
/// blob's size if any step buffered it.
/// </summary>
[Collection(AllocationMeasuringCollection.Name)]
public class PostgresBlobStreamingTests(ITestOutputHelper output)
{
    private const int Size = 64 << 20;

    [Fact]
    public async Task A_64_MiB_adapter_is_written_and_read_back_allocating_a_small_fraction_of_its_size()
    {
        using var folder = new TemporaryDirectory();
        var database = await PostgresServer.CreateDatabaseAsync("blob-streaming");
        await PostgresSchema.ApplyAsync(database);
        var blobs = new PostgresAdapterBlobs(database);
        await using var store = new AdapterStore(folder.Path, blobs, "silo");
        var block = new byte[1 << 20];
        new Random(11).NextBytes(block);
        await Put(blobs, folder["warm-up"], 2, block); // the pool, the prepared statements and the JIT, out of the measurement

        // The backend's own put, from a complete file as AdapterStore hands it over (its temp-file write is not timed).
        var file = folder["upload"];
        var sha256 = await WriteFileAsync(file, Size / block.Length, block);
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        await blobs.PutAsync(sha256, file, scratch: false);
        var writeSeconds = clock.Elapsed.TotalSeconds;
        var writeAllocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        var size = await store.SizeAsync(sha256);

        allocated = GC.GetTotalAllocatedBytes(precise: true);
        clock.Restart();
        long read = 0;
        var buffer = new byte[1 << 16];
        await using (var stream = await store.OpenReadAsync(sha256))
        {
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
                read += n;
        }
        var readSeconds = clock.Elapsed.TotalSeconds;
        var readAllocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"64 MiB through PostgresAdapterBlobs: write {Size / 1048576.0 / writeSeconds:F0} MiB/s ({writeAllocated / 1024} KiB allocated), read {Size / 1048576.0 / readSeconds:F0} MiB/s ({readAllocated / 1024} KiB allocated)"));
        Assert.Equal(Size, size);
        Assert.Equal(Size, read); // and the hash matched, or the read would have thrown at its end
        Assert.True(writeAllocated < Size / 8, $"writing allocated {writeAllocated} bytes for a {Size}-byte blob");
        Assert.True(readAllocated < Size / 8, $"reading allocated {readAllocated} bytes for a {Size}-byte blob");
    }

    /// <summary>Writes <paramref name="blocks"/> copies of <paramref name="block"/>, each with its index in its first bytes, and returns their hash.</summary>
    private static async Task<string> WriteFileAsync(string path, int blocks, byte[] block)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        for (var i = 0; i < blocks; i++)
        {
            BitConverter.TryWriteBytes(block, i);
            hash.AppendData(block);
            await file.WriteAsync(block);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static async Task Put(PostgresAdapterBlobs blobs, string path, int blocks, byte[] block)
        => await blobs.PutAsync(await WriteFileAsync(path, blocks, block), path, scratch: false);
}
