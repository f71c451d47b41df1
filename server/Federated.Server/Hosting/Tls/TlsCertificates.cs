using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Federated.Server.Hosting.Tls;

/// <summary>
/// Makes the coordinator's own CA and its server certificates: ECDSA P-256, SHA-256. The CA is issued by a
/// bootstrap key thrown away at once rather than signed by itself: .NET on Linux leaves a self-signed root out of
/// the chain a TLS server sends, and clients that pin the CA by fingerprint must see it.
/// </summary>
public static class TlsCertificates
{
    public static readonly TimeSpan CaLifetime = TimeSpan.FromDays(3650);
    public static readonly TimeSpan ServerLifetime = TimeSpan.FromDays(397);

    /// <summary>A server certificate this close to its end is issued again at start.</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    /// <summary>A new CA, with its private key.</summary>
    public static X509Certificate2 CreateCa(DateTimeOffset now)
    {
        using var bootstrapKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var bootstrapRequest = new CertificateRequest("CN=Federated coordinator CA bootstrap", bootstrapKey, HashAlgorithmName.SHA256);
        bootstrapRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 1, true));
        using var bootstrap = bootstrapRequest.CreateSelfSigned(now.AddMinutes(-5), now + CaLifetime);

        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=Federated coordinator CA {now:yyyy-MM-dd}, O=Federated", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var ca = request.Create(bootstrap.SubjectName, X509SignatureGenerator.CreateForECDsa(bootstrapKey), now.AddMinutes(-5), now + CaLifetime, Serial());
        return ca.CopyWithPrivateKey(key);
    }

    /// <summary>A server certificate for <paramref name="hosts"/> (DNS names or IP addresses) issued by <paramref name="ca"/>, with its key.</summary>
    public static X509Certificate2 CreateServer(X509Certificate2 ca, IReadOnlyList<string> hosts, DateTimeOffset now)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={hosts[0]}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in hosts)
        {
            if (IPAddress.TryParse(host, out var ip))
                names.AddIpAddress(ip);
            else
                names.AddDnsName(host);
        }
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthentication)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var notAfter = now + ServerLifetime < ca.NotAfter ? now + ServerLifetime : new DateTimeOffset(ca.NotAfter.ToUniversalTime());
        using var issued = request.Create(ca, now.AddMinutes(-5), notAfter, Serial());
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Whether a server certificate can be kept: issued by this CA, for exactly these hosts, not near its end.</summary>
    public static bool StillGood(X509Certificate2 server, X509Certificate2 ca, IReadOnlyList<string> hosts, DateTimeOffset now)
    {
        if (server.NotAfter.ToUniversalTime() - now.UtcDateTime < RenewBefore || server.NotBefore.ToUniversalTime() > now.UtcDateTime)
            return false;
        if (!Names(server).SetEquals(hosts.Select(Canonical)))
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.Build(server);
        // The CA is not self-signed (see above), so the chain ends at it with PartialChain only.
        return chain.ChainElements.Count == 2
               && chain.ChainElements[1].Certificate.RawData.AsSpan().SequenceEqual(ca.RawData)
               && chain.ChainElements[0].ChainElementStatus.Length == 0
               && chain.ChainStatus.All(s => s.Status == X509ChainStatusFlags.PartialChain);
    }

    /// <summary>The names a certificate's subject alternative names extension lists, canonical.</summary>
    public static HashSet<string> Names(X509Certificate2 certificate)
        => [.. certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>()
            .SelectMany(n => n.EnumerateDnsNames().Concat(n.EnumerateIPAddresses().Select(ip => ip.ToString())))
            .Select(Canonical)];

    /// <summary>A name as it is compared: IP addresses in their usual form, DNS names in lower case.</summary>
    public static string Canonical(string host) => IPAddress.TryParse(host, out var ip) ? ip.ToString() : host.ToLowerInvariant();

    /// <summary>A certificate with an ephemeral PEM-loaded key made usable by SslStream on every platform (a PKCS#12 round trip).</summary>
    public static X509Certificate2 ForTls(X509Certificate2 withKey)
        => X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);

    private static byte[] Serial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive number, as X.509 wants
        return serial;
    }
}
