using Federated.Contracts.Access;
using Federated.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using AuditEntry = Federated.Contracts.Access.AuditEntry;

namespace Federated.Server.Access;

/// <summary>Operator accounts and the audit export over gRPC (role admin; <see cref="OperatorAuthorization"/> checks and records).</summary>
public sealed class AccountsService(OperatorAccounts accounts, AuditTrail audit) : Accounts.AccountsBase
{
    public override async Task<AddUserReply> AddUser(AddUserRequest request, ServerCallContext context)
    {
        var role = OperatorRoles.Require(request.Role, "role");
        var (info, key) = await accounts.AddAsync(request.Name, role, OperatorPrincipal.Of(context).Who);
        return new AddUserReply { Info = ToProto(info, configured: false), Key = key };
    }

    public override async Task<ListUsersReply> ListUsers(ListUsersRequest request, ServerCallContext context)
    {
        var reply = new ListUsersReply();
        reply.Users.AddRange((await accounts.ListAsync()).Select(a => ToProto(a.Info, a.Configured)));
        return reply;
    }

    public override async Task<UserInfo> RemoveUser(UserRequest request, ServerCallContext context)
        => ToProto(await accounts.RemoveAsync(request.Name), configured: false);

    public override async Task<UserInfo> SetUserRole(SetUserRoleRequest request, ServerCallContext context)
        => ToProto(await accounts.SetRoleAsync(request.Name, OperatorRoles.Require(request.Role, "role")), configured: false);

    public override async Task ExportAudit(ExportAuditRequest request, IServerStreamWriter<Protos.V1.AuditEntry> responseStream, ServerCallContext context)
    {
        DateTimeOffset? since = request.Since is null ? null : request.Since.ToDateTimeOffset();
        await foreach (var entry in audit.ExportAsync(since, context.CancellationToken))
            await responseStream.WriteAsync(ToProto(entry), context.CancellationToken);
    }

    public static UserInfo ToProto(OperatorAccountInfo info, bool configured) => new()
    {
        Name = info.Name,
        Role = info.Role.Name(),
        Source = configured ? "configured" : "managed",
        CreatedAt = configured ? null : Timestamp.FromDateTimeOffset(info.CreatedAt),
        CreatedBy = info.CreatedBy,
    };

    public static Protos.V1.AuditEntry ToProto(AuditEntry e) => new()
    {
        Sequence = e.Sequence,
        At = Timestamp.FromDateTimeOffset(e.At),
        Who = e.Who,
        Role = e.Role?.Name() ?? "",
        Action = e.Action,
        Target = e.Target,
        Outcome = e.Outcome,
        Detail = e.Detail,
        From = e.From,
        Through = e.Through,
    };
}
