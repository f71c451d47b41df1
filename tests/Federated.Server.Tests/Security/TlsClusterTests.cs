using Federated.Protos;
using Federated.Server.Tests.Cluster;
using Xunit.Abstractions;
using static Federated.Server.Tests.Security.TlsTestKit;

namespace Federated.Server.Tests.Security;

/// <summary>In Postgres mode the first silo's CA is every silo's: clients trust one fingerprint whichever silo they reach.</summary>
public class TlsClusterTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_silos_with_their_own_data_folders_present_the_same_ca()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var database = await PostgresServer.CreateDatabaseAsync("tls-ca");
        var tls = new Dictionary<string, string?> { ["Server:Tls:Mode"] = "On" };
        await using var a = await TwoSiloTests.StartSiloAsync(folder["a"], database, logger, extra: tls);
        await using var b = await TwoSiloTests.StartSiloAsync(folder["b"], database, logger, extra: tls);

        Assert.Equal(Fingerprint(a), Fingerprint(b));
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(folder["a"], "tls", "ca.pem")), await File.ReadAllTextAsync(Path.Combine(folder["b"], "tls", "ca.pem")));
        Assert.False(File.Exists(Path.Combine(folder["a"], "tls", "ca.key")), "a silo wrote the cluster's CA key outside the database");
        Assert.NotEqual(await File.ReadAllTextAsync(Path.Combine(folder["a"], "tls", "server.pem")), await File.ReadAllTextAsync(Path.Combine(folder["b"], "tls", "server.pem")));

        var trust = new ServerTrust(CaFingerprint: Fingerprint(a));
        await ListJobsAsync(Https(a), trust);
        await ListJobsAsync(Https(b), trust);
        await ListJobsAsync($"{Https(a)},{Https(b)}", trust);
    }
}
