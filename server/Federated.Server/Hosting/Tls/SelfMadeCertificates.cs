using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Federated.Server.Cluster;

namespace Federated.Server.Hosting.Tls;

/// <summary>
/// The coordinator's own CA and server certificate, kept under &lt;DataDirectory&gt;/tls: ca.pem and ca.key (the CA,
/// made once; in Postgres mode the cluster's, from the shared database, with only ca.pem written here for handing
/// out), server.pem and server.key (issued from the CA, again when near its end or when the host names changed).
/// Keys are readable by the owner only.
/// </summary>
public static class SelfMadeCertificates
{
    public const string CaFile = "ca.pem";
    public const string CaKeyFile = "ca.key";
    public const string ServerFile = "server.pem";
    public const string ServerKeyFile = "server.key";

    /// <summary>The CA (with its key) and a server certificate issued by it, for <paramref name="hosts"/>.</summary>
    /// <param name="now">The real time (certificates are checked against clients' clocks, never a test's fake one).</param>
    public static (X509Certificate2 Ca, X509Certificate2 Server) LoadOrCreate(ServerOptions options, IReadOnlyList<string> hosts, DateTimeOffset now)
    {
        var folder = Folder(options);
        Directory.CreateDirectory(folder);
        var ca = options.Cluster.Mode == ClusterMode.Postgres ? ClusterCa(options, folder, now) : LocalCa(folder, now);
        var server = LoadServer(folder, ca, hosts, now);
        if (server is null)
        {
            server = TlsCertificates.CreateServer(ca, hosts, now);
            // The key first: a server.pem next to an old key is found mismatched and issued again, never used.
            WritePrivate(Path.Combine(folder, ServerKeyFile), server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
            Write(Path.Combine(folder, ServerFile), server.ExportCertificatePem());
        }
        return (ca, server);
    }

    public static string Folder(ServerOptions options) => Path.Combine(options.DataPath, "tls");

    /// <summary>The names the server certificate carries: every usual one for this machine, a cluster's advertised address, then Server:Tls:Hosts.</summary>
    public static IReadOnlyList<string> Hosts(ServerOptions options)
    {
        var hosts = new List<string> { "localhost", "127.0.0.1", "::1", Dns.GetHostName() };
        var listen = IPAddress.Parse(options.ListenAddress);
        if (!listen.Equals(IPAddress.Any) && !listen.Equals(IPAddress.IPv6Any))
            hosts.Add(listen.ToString());
        if (options.Cluster.Mode == ClusterMode.Postgres && !string.IsNullOrWhiteSpace(options.Cluster.AdvertisedAddress))
            hosts.Add(options.Cluster.AdvertisedAddress.Trim()); // where the other silos, and often the daemons, reach this one
        hosts.AddRange(options.Tls.Hosts.Select(h => h.Trim()));
        return [.. hosts.DistinctBy(TlsCertificates.Canonical, StringComparer.Ordinal)];
    }

    private static X509Certificate2 LocalCa(string folder, DateTimeOffset now)
    {
        var certificate = Path.Combine(folder, CaFile);
        var key = Path.Combine(folder, CaKeyFile);
        if (File.Exists(certificate) || File.Exists(key))
        {
            // A CA that is there but unreadable is not replaced: clients trust its fingerprint.
            try
            {
                return X509Certificate2.CreateFromPemFile(certificate, key);
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw new TlsStartupException(
                    $"{TlsSettings.Section}: the coordinator's CA in {certificate} and {key} cannot be read ({e.Message}); restore both files, "
                    + $"or delete both to make a new CA (every client must then be given its new fingerprint)", e);
            }
        }
        var ca = TlsCertificates.CreateCa(now);
        WritePrivate(key, ca.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        Write(certificate, ca.ExportCertificatePem());
        return ca;
    }

    private static X509Certificate2 ClusterCa(ServerOptions options, string folder, DateTimeOffset now)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (certificatePem, keyPem) = PostgresCertificateAuthority.LoadOrCreateAsync(options.Cluster.ConnectionString!, options.Cluster.ServiceId, () =>
        {
            var made = TlsCertificates.CreateCa(now);
            return (made.ExportCertificatePem(), made.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        }, timeout.Token).GetAwaiter().GetResult();
        var ca = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        Write(Path.Combine(folder, CaFile), certificatePem);
        return ca;
    }

    /// <summary>The server certificate kept from an earlier start, when it is still good for these hosts and this CA.</summary>
    private static X509Certificate2? LoadServer(string folder, X509Certificate2 ca, IReadOnlyList<string> hosts, DateTimeOffset now)
    {
        try
        {
            var server = X509Certificate2.CreateFromPemFile(Path.Combine(folder, ServerFile), Path.Combine(folder, ServerKeyFile));
            return TlsCertificates.StillGood(server, ca, hosts, now) ? server : null;
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null; // none yet, or damaged: a new one is issued
        }
    }

    /// <summary>Writes a file whole or not at all (another silo on the same folder may be reading it).</summary>
    private static void Write(string path, string text, UnixFileMode? mode = null)
    {
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (mode is { } unix && !OperatingSystem.IsWindows())
            options.UnixCreateMode = unix;
        using (var file = new FileStream(temporary, options))
        using (var writer = new StreamWriter(file))
            writer.Write(text);
        File.Move(temporary, path, overwrite: true);
    }

    private static void WritePrivate(string path, string text) => Write(path, text, UnixFileMode.UserRead | UnixFileMode.UserWrite);
}

/// <summary>TLS cannot start: the message names the setting or file to fix.</summary>
public sealed class TlsStartupException(string message, Exception? inner = null) : Exception(message, inner);
