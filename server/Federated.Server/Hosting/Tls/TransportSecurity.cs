using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Federated.Protos;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Federated.Server.Hosting.Tls;

/// <summary>
/// Whether the coordinator's endpoints speak TLS, and with which certificate: decided from Server:Tls and
/// Server:ListenAddress when the host is built (refusing plain HTTP beyond loopback unless Server:AllowInsecure),
/// the certificate loaded or made when Kestrel is configured at start, so that building a host writes nothing.
/// </summary>
public sealed partial class TransportSecurity
{
    private readonly ServerOptions _options;
    private readonly Lock _gate = new();
    private HttpsConnectionAdapterOptions? _https;

    private TransportSecurity(ServerOptions options, bool tls)
    {
        _options = options;
        Tls = tls;
        InsecureBeyondLoopback = !tls && !IsLoopback(options.ListenAddress);
    }

    /// <summary>Whether both endpoints speak TLS.</summary>
    public bool Tls { get; }

    /// <summary>Plain HTTP on an address other machines reach (allowed by Server:AllowInsecure): the dashboard warns of it.</summary>
    public bool InsecureBeyondLoopback { get; }

    /// <summary>The self-made CA's fingerprint once Kestrel is configured (null: plain, or the operator's certificate).</summary>
    public string? CaFingerprint { get; private set; }

    /// <summary>The decision for valid options (<see cref="Problems"/> is empty).</summary>
    public static TransportSecurity For(ServerOptions options)
        => new(options, options.Tls.Mode switch
        {
            TlsMode.On => true,
            TlsMode.Off => false,
            _ => !IsLoopback(options.ListenAddress),
        });

    /// <summary>IPAddress.IsLoopback: 127.0.0.0/8 and ::1; 0.0.0.0 and :: (every interface) are not.</summary>
    public static bool IsLoopback(string listenAddress) => IPAddress.TryParse(listenAddress, out var ip) && IPAddress.IsLoopback(ip);

    /// <summary>Every broken TLS setting, each naming its key; empty when usable. Reads the operator's files, writes nothing.</summary>
    public static IEnumerable<string> Problems(ServerOptions options)
    {
        var tls = options.Tls;
        const string section = TlsSettings.Section;
        if (!Enum.IsDefined(tls.Mode))
            yield return $"{section}:Mode: '{tls.Mode}' is not a mode; use Auto, On or Off";
        if (tls.Mode == TlsMode.Off && !IsLoopback(options.ListenAddress) && !options.AllowInsecure)
            yield return $"{section}:Mode is Off but Server:ListenAddress {options.ListenAddress} is reachable from other machines: client tokens, operator "
                + "credentials and adapters would cross the network unencrypted. Use TLS (Mode Auto or On), listen on 127.0.0.1 behind a TLS proxy, "
                + "or set Server:AllowInsecure=true to accept plain HTTP on a network you trust";
        foreach (var host in tls.Hosts)
            if (string.IsNullOrWhiteSpace(host) || Uri.CheckHostName(host.Trim()) == UriHostNameType.Unknown)
                yield return $"{section}:Hosts: '{host}' is neither a DNS name nor an IP address";
        if (string.IsNullOrWhiteSpace(tls.Certificate) != string.IsNullOrWhiteSpace(tls.Key))
        {
            yield return $"{section}:Certificate and {section}:Key go together: set both (PEM files) or neither (the coordinator makes its own CA)";
            yield break;
        }
        if (tls.OperatorCertificate && LoadOperatorProblem(tls) is { } problem)
            yield return problem;
    }

    /// <summary>Kestrel's HTTPS settings, the certificate loaded or made on first use (and logged); null when plain.</summary>
    public HttpsConnectionAdapterOptions? Https(ILogger logger)
    {
        if (!Tls)
        {
            if (InsecureBeyondLoopback)
                LogInsecure(logger, _options.ListenAddress);
            return null;
        }
        lock (_gate)
        {
            return _https ??= Load(logger);
        }
    }

    private HttpsConnectionAdapterOptions Load(ILogger logger)
    {
        var tls = _options.Tls;
        if (tls.OperatorCertificate)
        {
            var (server, chain) = LoadOperator(tls);
            LogOperatorCertificate(logger, tls.Certificate!, server.Subject, server.NotAfter.ToUniversalTime());
            return new HttpsConnectionAdapterOptions { ServerCertificate = server, ServerCertificateChain = chain };
        }
        // Certificates are judged by clients against the real time, whatever clock the grains run on.
        var hosts = SelfMadeCertificates.Hosts(_options);
        var (ca, made) = SelfMadeCertificates.LoadOrCreate(_options, hosts, TimeProvider.System.GetUtcNow());
        CaFingerprint = ServerTrust.Fingerprint(ca);
        LogCa(logger, CaFingerprint, Path.Combine(SelfMadeCertificates.Folder(_options), SelfMadeCertificates.CaFile), string.Join(", ", hosts));
        return new HttpsConnectionAdapterOptions
        {
            ServerCertificate = TlsCertificates.ForTls(made),
            ServerCertificateChain = [X509CertificateLoader.LoadCertificate(ca.RawData)],
        };
    }

    private static string? LoadOperatorProblem(TlsSettings tls)
    {
        try
        {
            var (server, _) = LoadOperator(tls);
            if (server.NotAfter.ToUniversalTime() < DateTime.UtcNow)
                return $"{TlsSettings.Section}:Certificate: '{tls.Certificate}' expired on {server.NotAfter.ToUniversalTime():u}";
            return null;
        }
        catch (TlsStartupException e)
        {
            return e.Message;
        }
    }

    /// <summary>The operator's certificate with its key, and the rest of its file (intermediates) as the chain to send.</summary>
    private static (X509Certificate2 Server, X509Certificate2Collection Chain) LoadOperator(TlsSettings tls)
    {
        var certificate = tls.Certificate!;
        var key = tls.Key!;
        if (!File.Exists(certificate))
            throw new TlsStartupException($"{TlsSettings.Section}:Certificate: '{certificate}': no such file");
        if (!File.Exists(key))
            throw new TlsStartupException($"{TlsSettings.Section}:Key: '{key}': no such file");
        var all = new X509Certificate2Collection();
        try
        {
            all.ImportFromPemFile(certificate);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new TlsStartupException($"{TlsSettings.Section}:Certificate: '{certificate}' is not a readable PEM certificate ({e.Message})", e);
        }
        if (all.Count == 0)
            throw new TlsStartupException($"{TlsSettings.Section}:Certificate: '{certificate}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        X509Certificate2 server;
        try
        {
            server = X509Certificate2.CreateFromPemFile(certificate, key);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new TlsStartupException($"{TlsSettings.Section}:Key: '{key}' is not the unencrypted PEM private key of the certificate in {TlsSettings.Section}:Certificate '{certificate}' ({e.Message})", e);
        }
        var chain = new X509Certificate2Collection();
        foreach (var other in all.Skip(1))
            chain.Add(other);
        return (TlsCertificates.ForTls(server), chain);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "TLS CA fingerprint (SHA-256): {Fingerprint} (give it to client daemons as Client:ServerCaFingerprint, or the CA file {CaFile} as Client:ServerCaFile); server certificate for {Hosts}")]
    private static partial void LogCa(ILogger logger, string fingerprint, string caFile, string hosts);

    [LoggerMessage(Level = LogLevel.Information, Message = "TLS with the operator's certificate {Certificate} ({Subject}, valid until {NotAfter:u})")]
    private static partial void LogOperatorCertificate(ILogger logger, string certificate, string subject, DateTime notAfter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Plain HTTP on {ListenAddress}, reachable from other machines (Server:AllowInsecure=true): client tokens, operator credentials and adapters cross the network unencrypted")]
    private static partial void LogInsecure(ILogger logger, string listenAddress);
}
