using Federated.Server.Cluster;
using Federated.Server.Hosting;
using Federated.Server.Storage;
using Federated.Server.Storage.Blobs;

namespace Federated.Server.Tests.Storage;

/// <summary>An upload in flight belongs to the silo receiving it: a store starting on a shared folder clears only its own leftovers.</summary>
public class AdapterUploadOwnerTests
{
    [Fact]
    public async Task A_silo_starting_on_a_shared_folder_leaves_another_silos_upload_in_flight()
    {
        using var folder = new TemporaryDirectory();
        var shared = folder["adapters"];
        await using var a = new AdapterStore(shared, new FileAdapterBlobs(shared), "10.0.0.1-11111");
        await using var inFlight = a.BeginWrite();
        await inFlight.Stream.WriteAsync(new byte[] { 1, 2, 3 });
        await inFlight.Stream.FlushAsync();
        var bLeftover = Path.Combine(shared, "incoming", "10.0.0.2-11111", "crashed-upload");
        Directory.CreateDirectory(Path.GetDirectoryName(bLeftover)!);
        await File.WriteAllBytesAsync(bLeftover, [9]);

        await using var b = new AdapterStore(shared, new FileAdapterBlobs(shared), "10.0.0.2-11111");

        Assert.False(File.Exists(bLeftover)); // its own, from before its restart
        Assert.Single(Directory.EnumerateFiles(Path.Combine(shared, "incoming", "10.0.0.1-11111")));
        await inFlight.Stream.WriteAsync(new byte[] { 4 });
        var (sha256, size) = await inFlight.CommitAsync();
        Assert.Equal(4, size);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, await File.ReadAllBytesAsync(b.Blobs.LocalFile(sha256)!));
    }

    [Fact]
    public async Task A_restarted_silo_clears_its_own_interrupted_uploads()
    {
        using var folder = new TemporaryDirectory();
        var shared = folder["adapters"];
        var first = new AdapterStore(shared, new FileAdapterBlobs(shared), "silo-a");
        var interrupted = first.BeginWrite(); // the process dies: never committed nor disposed
        await interrupted.Stream.WriteAsync(new byte[] { 1 });
        await interrupted.Stream.FlushAsync();
        Assert.Single(Directory.EnumerateFiles(Path.Combine(shared, "incoming", "silo-a")));

        await using var restarted = new AdapterStore(shared, new FileAdapterBlobs(shared), "silo-a");
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(shared, "incoming", "silo-a")));
        await interrupted.DisposeAsync();
    }

    [Fact]
    public void The_owner_is_the_silos_address_and_port_in_a_cluster_and_local_alone()
    {
        Assert.Equal("local", AdapterStores.OwnerOf(new ServerOptions()));
        var clustered = new ServerOptions { SiloPort = 11112, Cluster = new ClusterSettings { Mode = ClusterMode.Postgres, AdvertisedAddress = "fd00::7" } };
        Assert.Equal("fd00__7-11112", AdapterStores.OwnerOf(clustered));
        Assert.True(AdapterStores.IsValidOwner(AdapterStores.OwnerOf(clustered)));
        Assert.Throws<ArgumentException>(() => new AdapterStore("unused", new FileAdapterBlobs("unused"), "../elsewhere"));
    }

    [Fact]
    public void The_adapter_store_follows_the_mode_unless_set_and_postgres_needs_the_database()
    {
        Assert.Equal(AdapterStoreKind.Files, new ClusterSettings().EffectiveAdapterStore);
        Assert.Equal(AdapterStoreKind.Postgres, new ClusterSettings { Mode = ClusterMode.Postgres }.EffectiveAdapterStore);
        Assert.Equal(AdapterStoreKind.Files, new ClusterSettings { Mode = ClusterMode.Postgres, AdapterStore = AdapterStoreKind.Files }.EffectiveAdapterStore);
        Assert.Contains(new ClusterSettings { AdapterStore = AdapterStoreKind.Postgres }.Problems(),
            p => p.StartsWith("Server:Cluster:AdapterStore: Postgres keeps adapters in the cluster's database, so it needs Server:Cluster:Mode Postgres", StringComparison.Ordinal));
        Assert.Contains(new ClusterSettings { AdapterStore = (AdapterStoreKind)7 }.Problems(), p => p == "Server:Cluster:AdapterStore: '7' is not an adapter store; use Files or Postgres");
        Assert.Empty(new ClusterSettings { Mode = ClusterMode.Postgres, ConnectionString = "Host=db;Database=f", AdapterStore = AdapterStoreKind.Postgres }.Problems());
    }
}
