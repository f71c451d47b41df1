using System.Security.Cryptography;
using Federated.Contracts.Errors;
using Federated.Core.Adapters;
using Federated.Core.Tensors;
using Federated.Server.Cluster;
using Federated.Server.Storage;
using Federated.Server.Storage.Blobs;
using Npgsql;

namespace Federated.Server.Tests.Storage;

/// <summary>
/// What every adapter backend must do behind <see cref="AdapterStore"/>, run once per backend (the classes below):
/// bytes come back as written, changed bytes are DATA_LOSS on every read, one hash is stored once however often
/// and however concurrently it is put, a missing hash is NOT_FOUND, and only scratch blobs are ever deleted.
/// </summary>
public abstract class AdapterBlobContract : IAsyncLifetime
{
    private readonly TemporaryDirectory _folder = new();
    private readonly List<AdapterStore> _stores = [];

    protected string Folder => _folder.Path;

    /// <summary>A store on this backend, with its local folders in <paramref name="localRoot"/>.</summary>
    protected abstract Task<AdapterStore> CreateAsync(string localRoot);

    /// <summary>Flips one stored byte of the blob at <paramref name="offset"/>.</summary>
    protected abstract Task DamageAsync(AdapterStore store, string sha256, long offset);

    /// <summary>All bytes the backend holds, over every blob.</summary>
    protected abstract Task<long> StoredBytesAsync(AdapterStore store);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
            await store.DisposeAsync();
        _folder.Dispose();
    }

    protected async Task<AdapterStore> StoreAsync(string name = "store")
    {
        var store = await CreateAsync(Path.Combine(Folder, name));
        _stores.Add(store);
        return store;
    }

    /// <summary>Bytes spanning several chunks of the PostgreSQL backend, the last one partial.</summary>
    protected static byte[] Payload(int seed, int length = (5 << 19) + 123)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static LoraAdapter Adapter(float value)
    {
        var a = new Matrix(2, 8);
        var b = new Matrix(8, 2);
        Array.Fill(a.Data, value);
        Array.Fill(b.Data, value / 2);
        return new LoraAdapter([new KeyValuePair<string, LoraFactors>("model.layers.0.self_attn.q_proj", new LoraFactors(a, b))], 1.0);
    }

    protected static Task<(string Sha256, long SizeBytes)> Put(AdapterStore store, byte[] bytes, bool scratch = false)
        => store.WriteAsync(stream => stream.WriteAsync(bytes).AsTask(), scratch);

    protected static async Task<byte[]> ReadAll(AdapterStore store, string sha256)
    {
        await using var stream = await store.OpenReadAsync(sha256);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task Bytes_written_come_back_whole_through_every_read()
    {
        var store = await StoreAsync();
        var bytes = Payload(1);
        var (sha256, size) = await Put(store, bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), sha256);
        Assert.Equal(bytes.Length, size);
        Assert.True(await store.ContainsAsync(sha256));
        Assert.Equal(bytes.Length, await store.SizeAsync(sha256));
        Assert.Equal(bytes, await ReadAll(store, sha256));
        await using (var local = await store.OpenLocalAsync(sha256))
            Assert.Equal(bytes, await File.ReadAllBytesAsync(local.Path));

        var (adapterSha, _) = await store.WriteAsync(stream => AdapterSerializer.WriteAsync(stream, Adapter(0.75f)));
        Assert.Equal(0.75f, (await store.ReadAdapterAsync(adapterSha)).Modules.First().Value.A.Data[0]);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(store.Root, "incoming", store.Owner)));
    }

    [Fact]
    public async Task Changed_bytes_are_data_loss_on_every_read_naming_the_hash()
    {
        var store = await StoreAsync();
        var bytes = Payload(2);
        var (sha256, _) = await Put(store, bytes);
        var (adapterSha, adapterSize) = await store.WriteAsync(stream => AdapterSerializer.WriteAsync(stream, Adapter(0.5f)));
        await DamageAsync(store, sha256, bytes.Length - 3);
        await DamageAsync(store, adapterSha, adapterSize - 3);

        await AssertDamaged(sha256, () => ReadAll(store, sha256));
        await AssertDamaged(sha256, async () => await (await store.OpenLocalAsync(sha256)).DisposeAsync());
        await AssertDamaged(adapterSha, () => store.ReadAdapterAsync(adapterSha));
    }

    [Fact]
    public async Task One_hash_put_again_and_concurrently_is_stored_once()
    {
        var store = await StoreAsync();
        var other = await StoreAsync("other-silo"); // a second silo on the same backend
        var bytes = Payload(3);
        var (first, _) = await Put(store, bytes);
        var again = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() => Put(i % 2 == 0 ? store : other, bytes, scratch: i % 3 == 0))));
        Assert.All(again, put => Assert.Equal(first, put.Sha256));
        Assert.Equal(bytes.Length, await StoredBytesAsync(store));
        Assert.Equal(bytes, await ReadAll(other, first));

        var fresh = Payload(4);
        var racing = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() => Put(i % 2 == 0 ? store : other, fresh))));
        Assert.Single(racing.Select(r => r.Sha256).Distinct());
        Assert.Equal(bytes.Length + fresh.Length, await StoredBytesAsync(store));
        Assert.Equal(fresh, await ReadAll(store, racing[0].Sha256));
    }

    [Fact]
    public async Task A_missing_hash_is_not_found_and_a_malformed_one_invalid()
    {
        var store = await StoreAsync();
        var missing = Convert.ToHexStringLower(SHA256.HashData("never stored"u8));
        Assert.False(await store.ContainsAsync(missing));
        Assert.Null(await store.SizeAsync(missing));
        foreach (var read in new Func<Task>[] { () => store.OpenReadAsync(missing), () => store.ReadAdapterAsync(missing), () => store.OpenLocalAsync(missing) })
        {
            var error = await Assert.ThrowsAsync<FederatedException>(read);
            Assert.Equal(FederatedError.NotFound, error.Error);
            Assert.Contains(missing, error.Message);
        }
        var invalid = await Assert.ThrowsAsync<FederatedException>(() => store.OpenReadAsync("ABC"));
        Assert.Equal(FederatedError.InvalidArgument, invalid.Error);
    }

    [Fact]
    public async Task Only_a_blob_never_put_kept_is_deleted()
    {
        var store = await StoreAsync();
        var (part, _) = await Put(store, Payload(5), scratch: true);
        var (keptFirst, _) = await Put(store, Payload(6));
        await Put(store, Payload(6), scratch: true);
        var (keptLater, _) = await Put(store, Payload(7), scratch: true);
        await Put(store, Payload(7)); // a joined payload byte-identical to a part

        foreach (var sha256 in new[] { part, keptFirst, keptLater })
            await store.DeleteScratchAsync(sha256);
        Assert.False(await store.ContainsAsync(part));
        Assert.Equal(Payload(6), await ReadAll(store, keptFirst));
        Assert.Equal(Payload(7), await ReadAll(store, keptLater));
        await store.DeleteScratchAsync(part); // already gone: nothing to do
    }

    private static async Task AssertDamaged(string sha256, Func<Task> read)
    {
        var error = await Assert.ThrowsAsync<FederatedException>(read);
        Assert.Equal(FederatedError.DataLoss, error.Error);
        Assert.StartsWith($"stored adapter {sha256} is damaged: its bytes hash to ", error.Message);
    }
}

public sealed class FileAdapterBlobContractTests : AdapterBlobContract
{
    protected override Task<AdapterStore> CreateAsync(string localRoot)
        => Task.FromResult(new AdapterStore(Path.Combine(Folder, "shared"), new FileAdapterBlobs(Path.Combine(Folder, "shared")), Path.GetFileName(localRoot)));

    protected override Task DamageAsync(AdapterStore store, string sha256, long offset)
    {
        using var file = new FileStream(store.Blobs.LocalFile(sha256)!, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        var value = (byte)file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(value ^ 0x40));
        return Task.CompletedTask;
    }

    protected override Task<long> StoredBytesAsync(AdapterStore store)
        => Task.FromResult(new[] { "sha256", "scratch" }.Select(kind => Path.Combine(Folder, "shared", kind)).Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories)).Sum(f => new FileInfo(f).Length));
}

public sealed class PostgresAdapterBlobContractTests : AdapterBlobContract
{
    private string _database = "";

    public override async Task InitializeAsync()
    {
        _database = await PostgresServer.CreateDatabaseAsync("adapter-blobs");
        await PostgresSchema.ApplyAsync(_database);
    }

    protected override Task<AdapterStore> CreateAsync(string localRoot)
        => Task.FromResult(new AdapterStore(localRoot, new PostgresAdapterBlobs(_database), "silo"));

    protected override Task DamageAsync(AdapterStore store, string sha256, long offset)
        => PostgresBlobTables.ExecuteAsync(_database,
            "UPDATE adapter_blob_chunks SET data = set_byte(data, @at, get_byte(data, @at) # 64) WHERE sha256 = @sha256 AND chunk_index = @index",
            ("sha256", sha256), ("index", (int)(offset / PostgresAdapterBlobs.ChunkBytes)), ("at", (int)(offset % PostgresAdapterBlobs.ChunkBytes)));

    protected override async Task<long> StoredBytesAsync(AdapterStore store)
        => (long)(await PostgresBlobTables.ScalarAsync(_database, "SELECT coalesce(sum(length(data)), 0)::bigint FROM adapter_blob_chunks"))!;

    [Fact]
    public async Task A_missing_chunk_is_data_loss_and_a_seeking_reader_gets_a_shared_copy_removed_after_use()
    {
        var store = await StoreAsync();
        var bytes = Payload(8);
        var (sha256, _) = await Put(store, bytes);

        await using (var first = await store.OpenLocalAsync(sha256))
        await using (var second = await store.OpenLocalAsync(sha256, verify: false))
        {
            Assert.Equal(first.Path, second.Path);
            Assert.StartsWith(Path.Combine(store.Root, "cache", store.Owner), first.Path, StringComparison.Ordinal);
            Assert.Equal(bytes, await File.ReadAllBytesAsync(first.Path));
            Assert.Equal(1, store.LocalCopies);
        }
        Assert.Equal(0, store.LocalCopies);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(store.Root, "cache", store.Owner)));

        await PostgresBlobTables.ExecuteAsync(_database, "DELETE FROM adapter_blob_chunks WHERE sha256 = @sha256 AND chunk_index = 1", ("sha256", sha256));
        var error = await Assert.ThrowsAsync<FederatedException>(() => ReadAll(store, sha256));
        Assert.Equal(FederatedError.DataLoss, error.Error);
        Assert.Contains($"stored adapter {sha256} is damaged: chunk 1 of its bytes is missing", error.Message);
        await Assert.ThrowsAsync<FederatedException>(async () => await (await store.OpenLocalAsync(sha256)).DisposeAsync());
        Assert.Equal(0, store.LocalCopies);
    }
}

/// <summary>Statements on the blob tables, for tests that reach behind the backend.</summary>
internal static class PostgresBlobTables
{
    public static async Task ExecuteAsync(string database, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        Assert.True(await command.ExecuteNonQueryAsync() > 0, $"nothing matched: {sql}");
    }

    public static async Task<object?> ScalarAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
