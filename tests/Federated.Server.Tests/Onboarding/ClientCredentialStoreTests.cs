using Federated.Client.Hosting;
using Microsoft.Extensions.Options;

namespace Federated.Server.Tests.Onboarding;

/// <summary>The daemon's own credential on disk: owner-only, replaced by rename, bound to the client id.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes; the daemon runs on Linux
public class ClientCredentialStoreTests
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public void A_stored_credential_is_owner_only_and_read_back_by_the_next_start()
    {
        using var folder = new TemporaryDirectory();
        var store = Store(folder["work"]);

        store.Save("fcc1.edge-1.c2VjcmV0", "edge-1");

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(store.Path));
        Assert.Equal(Path.Combine(folder["work"], ClientCredentialStore.FileName), store.Path);
        Assert.Equal([ClientCredentialStore.FileName], Directory.GetFiles(folder["work"]).Select(Path.GetFileName));
        var restarted = Store(folder["work"]);
        Assert.Null(restarted.Current);
        restarted.Load("edge-1");
        Assert.Equal("fcc1.edge-1.c2VjcmV0", restarted.Current);
    }

    [Fact]
    public void A_client_id_with_dots_keeps_its_credential()
    {
        using var folder = new TemporaryDirectory();
        var store = Store(folder["work"]);
        store.Save("fcc1.lab.site-2.a1.c2VjcmV0", "lab.site-2.a1");
        store.Load("lab.site-2.a1");
        Assert.Equal("fcc1.lab.site-2.a1.c2VjcmV0", store.Current);
    }

    [Fact]
    public void A_replacement_is_renamed_into_place_so_a_reader_never_sees_half_a_credential()
    {
        using var folder = new TemporaryDirectory();
        var store = Store(folder["work"]);
        store.Save("fcc1.edge-1.b2xk", "edge-1");
        using var earlier = new StreamReader(new FileStream(store.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        // A temporary file left by a write cut short, world-readable: its mode must not carry over.
        File.WriteAllText(store.Path + ".tmp", "fcc1.edge-1.cGFydGlh");
        File.SetUnixFileMode(store.Path + ".tmp", OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        store.Save("fcc1.edge-1.bmV3", "edge-1");

        // The file open before still holds the old text whole: the new one was written beside it and renamed over it.
        Assert.Equal("fcc1.edge-1.b2xk", earlier.ReadToEnd().Trim());
        Assert.Equal("fcc1.edge-1.bmV3", File.ReadAllText(store.Path).Trim());
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(store.Path));
        Assert.False(File.Exists(store.Path + ".tmp"));
    }

    [Fact]
    public void Another_clients_credential_is_refused_at_start_naming_both_ids()
    {
        using var folder = new TemporaryDirectory();
        Store(folder["work"]).Save("fcc1.edge-1.c2VjcmV0", "edge-1");

        var error = Assert.Throws<InvalidOperationException>(() => Store(folder["work"]).Load("edge-2"));

        Assert.Contains("belongs to client 'edge-1'", error.Message);
        Assert.Contains("this client's id is 'edge-2' (Client:ClientId)", error.Message);
        Assert.Contains(Path.Combine(folder["work"], ClientCredentialStore.FileName), error.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_credential_is_refused_naming_the_format()
    {
        using var folder = new TemporaryDirectory();
        Directory.CreateDirectory(folder["work"]);
        File.WriteAllText(folder["work/credential"], "fjt1.abc.c2VjcmV0"); // a join token, not a credential

        var error = Assert.Throws<InvalidOperationException>(() => Store(folder["work"]).Load("edge-1"));

        Assert.Contains("is not a client credential (fcc1.<client id>.<secret>)", error.Message);
    }

    [Fact]
    public void A_credential_for_another_client_from_the_coordinator_is_not_kept()
    {
        using var folder = new TemporaryDirectory();
        var store = Store(folder["work"]);

        var error = Assert.Throws<InvalidOperationException>(() => store.Save("fcc1.edge-9.c2VjcmV0", "edge-1"));

        Assert.Contains("the credential the coordinator sent belongs to client 'edge-9'", error.Message);
        Assert.False(File.Exists(store.Path));
        Assert.Null(store.Current);
    }

    private static ClientCredentialStore Store(string workDirectory)
        => new(Options.Create(new ClientOptions { WorkDirectory = workDirectory }));
}
