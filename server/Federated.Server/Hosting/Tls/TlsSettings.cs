namespace Federated.Server.Hosting.Tls;

/// <summary>Whether the coordinator's two endpoints (gRPC and the HTTP/dashboard port) speak TLS.</summary>
public enum TlsMode
{
    /// <summary>TLS when Server:ListenAddress is not a loopback address, plain HTTP on loopback (the default).</summary>
    Auto,

    /// <summary>Always TLS, loopback included.</summary>
    On,

    /// <summary>Never TLS; beyond loopback only with Server:AllowInsecure=true.</summary>
    Off,
}

/// <summary>The "Server:Tls" settings.</summary>
public sealed class TlsSettings
{
    public const string Section = "Server:Tls";

    public TlsMode Mode { get; set; } = TlsMode.Auto;

    /// <summary>The operator's certificate, a PEM file (the server's certificate first, then any intermediates); with <see cref="Key"/>.</summary>
    public string? Certificate { get; set; }

    /// <summary>The private key of <see cref="Certificate"/>, a PEM file (unencrypted).</summary>
    public string? Key { get; set; }

    /// <summary>
    /// Names and IP addresses clients reach this server by, put in the certificate the coordinator makes itself
    /// (besides localhost, 127.0.0.1, ::1, the machine's name and a specific listen address). Unused with an
    /// operator's certificate.
    /// </summary>
    public string[] Hosts { get; set; } = [];

    public bool OperatorCertificate => !string.IsNullOrWhiteSpace(Certificate);
}
