using Federated.Contracts.Access;
using Grpc.Core;

namespace Federated.Server.Access;

public enum PrincipalKind
{
    /// <summary>An account in the settings (Server:Dashboard).</summary>
    Configured,

    /// <summary>An account an admin added at run time.</summary>
    Managed,

    /// <summary>Server:OperatorToken, kept as an admin credential for older deployments.</summary>
    LegacyToken,

    /// <summary>No credential, on a server that requires none.</summary>
    Anonymous,
}

/// <summary>Who is calling, with which role.</summary>
public sealed record OperatorPrincipal(string Name, OperatorRole Role, PrincipalKind Kind)
{
    private const string UserStateKey = "federated:operator";

    public static readonly OperatorPrincipal LegacyToken = new(AuditWho.LegacyToken, OperatorRole.Admin, PrincipalKind.LegacyToken);
    public static readonly OperatorPrincipal Anonymous = new(AuditWho.Anonymous, OperatorRole.Admin, PrincipalKind.Anonymous);

    /// <summary>What the audit trail and "created by" fields record.</summary>
    public string Who => Name;

    /// <summary>The caller <see cref="OperatorAuthorization"/> let through on this call.</summary>
    public static OperatorPrincipal Of(ServerCallContext context)
        => context.UserState.TryGetValue(UserStateKey, out var principal) && principal is OperatorPrincipal p
            ? p
            : throw new InvalidOperationException($"{context.Method} ran without {nameof(OperatorAuthorization)}");

    internal void Attach(ServerCallContext context) => context.UserState[UserStateKey] = this;
}
