using Federated.Contracts.Access;

namespace Federated.Server.Access;

/// <summary>The least role each operator-side gRPC method needs, and whether a call is recorded in the audit trail.</summary>
/// <param name="Audited">Changes something (recorded whatever its outcome); reads are recorded only when refused.</param>
public sealed record MethodRule(OperatorRole Role, bool Audited);

/// <summary>
/// The one table of operator-side gRPC methods. A method of these services missing here is refused to everyone
/// (and a test enumerates the services' descriptors so that none is missing).
/// </summary>
public static class OperatorMethods
{
    public static readonly IReadOnlyList<string> Services = ["federated.v1.Operator", "federated.v1.Admin", "federated.v1.Accounts"];

    private static readonly MethodRule Read = new(OperatorRole.Viewer, false);
    private static readonly MethodRule Act = new(OperatorRole.Operator, true);
    private static readonly MethodRule AdminRead = new(OperatorRole.Admin, false);
    private static readonly MethodRule AdminAct = new(OperatorRole.Admin, true);

    public static readonly IReadOnlyDictionary<string, MethodRule> Rules = new Dictionary<string, MethodRule>(StringComparer.Ordinal)
    {
        ["/federated.v1.Operator/GetJob"] = Read,
        ["/federated.v1.Operator/ListJobs"] = Read,
        ["/federated.v1.Operator/WatchJob"] = Read,
        ["/federated.v1.Operator/DownloadGlobalAdapter"] = Read,
        ["/federated.v1.Operator/ListClients"] = Read,
        ["/federated.v1.Operator/CreateJob"] = Act,
        ["/federated.v1.Operator/PauseJob"] = Act,
        ["/federated.v1.Operator/ResumeJob"] = Act,
        ["/federated.v1.Operator/StopJob"] = Act,
        ["/federated.v1.Operator/PauseClient"] = Act,
        ["/federated.v1.Operator/ResumeClient"] = Act,
        ["/federated.v1.Operator/DrainClient"] = Act,
        ["/federated.v1.Operator/RemoveClient"] = Act,
        ["/federated.v1.Admin/CreateJoinToken"] = AdminAct,
        ["/federated.v1.Admin/ListJoinTokens"] = AdminRead,
        ["/federated.v1.Admin/RevokeJoinToken"] = AdminAct,
        ["/federated.v1.Accounts/AddUser"] = AdminAct,
        ["/federated.v1.Accounts/ListUsers"] = AdminRead,
        ["/federated.v1.Accounts/RemoveUser"] = AdminAct,
        ["/federated.v1.Accounts/SetUserRole"] = AdminAct,
        // Reading the whole trail out is itself worth a line in it.
        ["/federated.v1.Accounts/ExportAudit"] = AdminAct,
    };

    /// <summary>True for a method of <see cref="Services"/>, listed or not.</summary>
    public static bool Covers(string method)
        => Services.Any(s => method.Length > s.Length + 2 && method[0] == '/' && method.AsSpan(1).StartsWith(s, StringComparison.Ordinal) && method[s.Length + 1] == '/');

    /// <summary>"CreateJob" of "/federated.v1.Operator/CreateJob".</summary>
    public static string ShortName(string method) => method[(method.LastIndexOf('/') + 1)..];
}
