namespace Federated.Server.Access;

/// <summary>Operator authentication on the gRPC port (appsettings.json section "Server:Operators").</summary>
public sealed class OperatorAccessOptions
{
    public const string Section = "Server:Operators";

    /// <summary>
    /// Refuse Operator, Admin and Accounts calls that carry no credential. Unset: refused when Server:ListenAddress is
    /// not loopback (other machines reach the port) or Server:OperatorToken is set. False: such calls act as an
    /// anonymous admin (development, `federated run` on loopback), and the server warns at start. A credential that
    /// is presented is checked either way.
    /// </summary>
    public bool? RequireCredentials { get; set; }
}
