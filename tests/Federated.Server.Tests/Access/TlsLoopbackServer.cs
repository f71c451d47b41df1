using System.Security.Cryptography.X509Certificates;
using Federated.Protos;
using Federated.Server.Tests.Security;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;

namespace Federated.Server.Tests.Access;

/// <summary>
/// A coordinator for the trust tests, served as deployed: TLS on loopback with a CA and server certificate this test
/// process made (as an operator's own PKI would be), and channels, browser sessions and daemons that trust that CA
/// and nothing else. Credentials and join tokens thus cross a real TLS connection in every Access test.
/// </summary>
public sealed class TlsLoopbackServer : IAsyncDisposable
{
    // RSA key generation takes a noticeable fraction of a second on these machines: one CA and certificate per process.
    private static readonly Lazy<(string Ca, string Certificate, string Key)> Made = new(() =>
    {
        var (ca, issued) = TlsTestKit.OperatorCertificates();
        using (ca)
        using (issued)
            return (ca.ExportCertificatePem(), issued.ExportCertificatePem(), issued.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
    });

    private TlsLoopbackServer(LocalServer local, string caFile)
    {
        Local = local;
        CaFile = caFile;
    }

    public LocalServer Local { get; }

    /// <summary>The test's CA certificate (PEM), the one thing a caller trusts.</summary>
    public string CaFile { get; }

    public ServerTrust Trust => new(CaFile: CaFile);

    public WebApplication App => Local.App;

    public string GrpcAddress => Local.GrpcAddress;

    public string HttpAddress => Local.HttpAddress;

    /// <summary>Settings a daemon needs to trust this server (beside its address).</summary>
    public IReadOnlyDictionary<string, string?> ClientTrustSettings => new Dictionary<string, string?> { ["Client:ServerCaFile"] = CaFile };

    /// <summary>Starts a server whose data lie in <c>folder["server"]</c>, with <paramref name="settings"/> on top of TLS.</summary>
    public static async Task<TlsLoopbackServer> StartAsync(TemporaryDirectory folder, Serilog.ILogger? logger = null, IReadOnlyDictionary<string, string?>? settings = null, TimeProvider? time = null)
    {
        var (ca, certificate, key) = Made.Value;
        Directory.CreateDirectory(folder["tls"]);
        await File.WriteAllTextAsync(folder["tls/ca.pem"], ca);
        await File.WriteAllTextAsync(folder["tls/server.pem"], certificate);
        await File.WriteAllTextAsync(folder["tls/server.key"], key);
        var all = new Dictionary<string, string?>
        {
            ["Server:Tls:Mode"] = "On",
            ["Server:Tls:Certificate"] = folder["tls/server.pem"],
            ["Server:Tls:Key"] = folder["tls/server.key"],
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string?>())
            all[name] = value;
        var local = await LocalServer.StartAsync(folder["server"], logger ?? Serilog.Core.Logger.None, settings: all, time: time);
        Assert.StartsWith("https://", local.GrpcAddress);
        return new TlsLoopbackServer(local, folder["tls/ca.pem"]);
    }

    /// <summary>A gRPC channel over TLS carrying <paramref name="credential"/> (none when null).</summary>
    public GrpcChannel Channel(string? credential = null) => GrpcChannels.Create(GrpcAddress, credential, trust: Trust);

    /// <summary>A browser's session against the dashboard over TLS.</summary>
    public DashboardSession Browser() => new(HttpAddress, Trust);

    public ValueTask DisposeAsync() => Local.DisposeAsync();
}
