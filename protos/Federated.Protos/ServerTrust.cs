using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Federated.Protos;

/// <summary>
/// Which CA a client trusts the coordinator's certificate from, in place of the system's trust store: the CA whose
/// SHA-256 fingerprint the coordinator logs at start (like SSH's known hosts), found in the chain it presents, or
/// the CA certificate(s) in a PEM file. Host names are checked either way.
/// </summary>
/// <param name="CaFingerprint">SHA-256 of the CA certificate's DER, hex, colons optional, any case.</param>
/// <param name="CaFile">A PEM file holding the CA certificate(s).</param>
public sealed record ServerTrust(string? CaFingerprint = null, string? CaFile = null)
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    /// <summary>The system's trust store, with a refusal that says which settings give the coordinator's own CA.</summary>
    public static ServerTrust SystemStore { get; } = new();

    /// <summary>A trust from the two settings, or null when neither is set (the system's trust store applies, <see cref="SystemStore"/>).</summary>
    public static ServerTrust? From(string? caFingerprint, string? caFile)
        => string.IsNullOrWhiteSpace(caFingerprint) && string.IsNullOrWhiteSpace(caFile) ? null
            : new ServerTrust(string.IsNullOrWhiteSpace(caFingerprint) ? null : caFingerprint, string.IsNullOrWhiteSpace(caFile) ? null : caFile);

    /// <summary>SHA-256 of a certificate's DER, uppercase hex pairs separated by colons (as the coordinator logs it).</summary>
    public static string Fingerprint(X509Certificate2 certificate)
        => string.Join(':', Convert.ToHexString(SHA256.HashData(certificate.RawData)).Chunk(2).Select(pair => new string(pair)));

    /// <summary>The fingerprint as 64 uppercase hex digits, or null when it is not one (after removing colons and spaces).</summary>
    public static string? Normalise(string? fingerprint)
    {
        var digits = (fingerprint ?? "").Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
        return digits.Length == 64 && digits.All(char.IsAsciiHexDigit) ? digits : null;
    }

    /// <summary>What is wrong with a CA fingerprint setting, or null when it is usable (or empty).</summary>
    public static string? FingerprintProblem(string? caFingerprint)
        => !string.IsNullOrWhiteSpace(caFingerprint) && Normalise(caFingerprint) is null
            ? $"'{caFingerprint}' is not a SHA-256 fingerprint (64 hex digits, colons optional, as the coordinator logs it at start)"
            : null;

    /// <summary>What is wrong with a CA file setting, or null when it is usable (or empty).</summary>
    public static string? FileProblem(string? caFile)
    {
        if (string.IsNullOrWhiteSpace(caFile))
            return null;
        try
        {
            if (!File.Exists(caFile))
                return $"'{caFile}': no such file";
            if (LoadCertificates(caFile).Count == 0)
                return $"'{caFile}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
            return null;
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            return $"'{caFile}' cannot be read ({e.Message})";
        }
    }

    /// <summary>Makes <paramref name="handler"/> check the certificates of <paramref name="addresses"/> against this trust (gRPC or plain HTTPS, e.g. the dashboard).</summary>
    public void ApplyTo(SocketsHttpHandler handler, CoordinatorAddresses addresses)
        => handler.SslOptions.RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
            Validate(Address(sender, addresses), certificate, chain, errors);

    /// <summary>The address connected to, for messages: of several, the one whose host the handshake was for.</summary>
    private static string Address(object sender, CoordinatorAddresses addresses)
    {
        var host = (sender as SslStream)?.TargetHostName;
        var match = addresses.Addresses.Count == 1 ? addresses.Addresses[0]
            : addresses.Addresses.FirstOrDefault(a => string.Equals(a.IdnHost, host, StringComparison.OrdinalIgnoreCase));
        return match?.GetLeftPart(UriPartial.Authority) ?? host ?? addresses.ToString();
    }

    /// <summary>
    /// Checks the certificate a coordinator presents: it must chain to the trusted CA and name the host connected
    /// to. Throws <see cref="ServerTrustException"/> saying what to check otherwise (SslStream passes it on as the
    /// handshake's failure, so it reaches the caller inside the gRPC error).
    /// </summary>
    private bool Validate(string address, X509Certificate? presented, X509Chain? chain, SslPolicyErrors errors)
    {
        if (presented is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            throw new ServerTrustException($"the coordinator at {address} presented no certificate");
        if (CaFile is null && CaFingerprint is null)
            return errors == SslPolicyErrors.None ? true : throw new ServerTrustException(
                $"the certificate the coordinator at {address} presents ({presented.Subject}) is not trusted by this machine ({errors}): if the coordinator made its own CA, "
                + "give the CA's fingerprint it logs at start (Client:ServerCaFingerprint, --ca-fingerprint) or its data/tls/ca.pem (Client:ServerCaFile, --ca-file)");
        var leaf = presented as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        // What the server sent besides its own certificate (SslStream puts it in the chain's extra store).
        var sent = chain?.ChainPolicy.ExtraStore.Cast<X509Certificate2>().Where(c => !c.RawData.AsSpan().SequenceEqual(leaf.RawData)).ToList() ?? [];
        var anchors = Anchors(address, sent);
        if (!ChainsTo(leaf, sent, anchors))
        {
            var source = CaFile is not null ? $"the CA in {CaFile} (Client:ServerCaFile, --ca-file)" : $"the CA with fingerprint {CaFingerprint} (Client:ServerCaFingerprint, --ca-fingerprint)";
            throw new ServerTrustException($"the certificate the coordinator at {address} presents ({leaf.Subject}, issued by {leaf.Issuer}) is not issued by {source}; check that this is the coordinator you mean and that the CA is the one it uses");
        }
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            var names = leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(n => n.EnumerateDnsNames().Concat(n.EnumerateIPAddresses().Select(ip => ip.ToString())));
            throw new ServerTrustException($"the certificate the coordinator at {address} presents is for {string.Join(", ", names)}, not the host connected to: connect by one of those names, or have the operator add this one to Server:Tls:Hosts");
        }
        return true;
    }

    /// <summary>The CA certificates to trust: the file's, or the one sent whose fingerprint is the expected one.</summary>
    private List<X509Certificate2> Anchors(string address, List<X509Certificate2> sent)
    {
        if (CaFile is not null)
            return [.. LoadCertificates(CaFile)];
        var expected = Normalise(CaFingerprint) ?? throw new ServerTrustException($"Client:ServerCaFingerprint: '{CaFingerprint}' is not a SHA-256 fingerprint");
        var match = sent.FirstOrDefault(c => Normalise(Fingerprint(c)) == expected);
        if (match is not null)
            return [match];
        var presented = sent.Count == 0 ? "no CA certificate" : $"a CA with fingerprint {string.Join(", ", sent.Select(Fingerprint))}";
        throw new ServerTrustException(
            $"the coordinator at {address} presents {presented}, not the expected {CaFingerprint} (Client:ServerCaFingerprint, --ca-fingerprint): "
            + "ask the operator for the fingerprint the coordinator logs at start (\"TLS CA fingerprint (SHA-256)\"); if it is the one you have, something else answers at that address");
    }

    /// <summary>
    /// Whether the leaf chains to one of the anchors. A coordinator's self-made CA is issued by a key discarded at
    /// once (so that servers send it; a self-signed root is left out of the chain), so ending at an anchor that is
    /// not self-signed is fine: the chain stops there with only PartialChain on that last element.
    /// </summary>
    private static bool ChainsTo(X509Certificate2 leaf, List<X509Certificate2> sent, List<X509Certificate2> anchors)
    {
        using var build = new X509Chain();
        build.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        build.ChainPolicy.CustomTrustStore.AddRange(anchors.ToArray());
        build.ChainPolicy.ExtraStore.AddRange(sent.ToArray());
        build.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        build.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
        if (build.Build(leaf))
            return true;
        var elements = build.ChainElements;
        if (elements.Count < 2 || build.ChainStatus.Any(s => s.Status != X509ChainStatusFlags.PartialChain))
            return false;
        var last = elements[^1].Certificate;
        return anchors.Any(a => a.RawData.AsSpan().SequenceEqual(last.RawData))
               && elements.Take(elements.Count - 1).All(e => e.ChainElementStatus.Length == 0);
    }

    private static X509Certificate2Collection LoadCertificates(string path)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPemFile(path);
        return certificates;
    }
}

/// <summary>The coordinator's certificate is not trusted: the message says what to check.</summary>
public sealed class ServerTrustException(string message) : AuthenticationException(message)
{
    /// <summary>The trust failure somewhere inside a call's failure (gRPC wraps it in its Unavailable status), or null.</summary>
    public static ServerTrustException? Find(Exception? e)
    {
        for (var depth = 0; e is not null && depth < 16; depth++)
        {
            if (e is ServerTrustException trust)
                return trust;
            e = e is Grpc.Core.RpcException rpc ? rpc.Status.DebugException ?? rpc.InnerException : e.InnerException;
        }
        return null;
    }
}
