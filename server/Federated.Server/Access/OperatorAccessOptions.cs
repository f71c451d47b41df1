namespace Federated.Server.Access;

/// <summary>Operator authentication on the gRPC port (appsettings.json section "Server:Operators").</summary>
public sealed class OperatorAccessOptions
{
    public const string Section = "Server:Operators";

    /// <summary>
    /// Refuse Operator, Admin and Accounts calls that carry no credential. Implied by Server:OperatorToken; without
    /// either, such calls act as an anonymous admin (development, `federated run`), and the server warns at start.
    /// A credential that is presented is checked either way.
    /// </summary>
    public bool RequireCredentials { get; set; }
}
