using Federated.Contracts;
using Federated.Contracts.Errors;
using Federated.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Federated.Server.Access;

/// <summary>The administrators' door: join tokens for new edge machines (`federated tokens …`).</summary>
public sealed class AdminService(JoinTokenIssuer issuer) : Admin.AdminBase
{
    public override async Task<CreateJoinTokenReply> CreateJoinToken(CreateJoinTokenRequest request, ServerCallContext context)
    {
        if (request.ExpiresInSeconds < 1)
            throw FederatedException.Invalid($"expires_in_seconds must be 1 or more, got {request.ExpiresInSeconds}");
        var lifetime = request.ExpiresInSeconds > (long)JoinTokensGrain.MaxLifetime.TotalSeconds
            ? JoinTokensGrain.MaxLifetime + TimeSpan.FromSeconds(1) // refused by the grain, naming the limit
            : TimeSpan.FromSeconds(request.ExpiresInSeconds);
        var (info, token) = await issuer.CreateAsync(request.Uses, lifetime, request.Label ?? "", OperatorName(context));
        return new CreateJoinTokenReply { Info = ToProto(info), Token = token };
    }

    public override async Task<ListJoinTokensReply> ListJoinTokens(ListJoinTokensRequest request, ServerCallContext context)
    {
        var reply = new ListJoinTokensReply();
        reply.Tokens.AddRange((await issuer.ListAsync()).Select(ToProto));
        return reply;
    }

    public override async Task<JoinTokenInfo> RevokeJoinToken(RevokeJoinTokenRequest request, ServerCallContext context)
        => ToProto(await issuer.RevokeAsync(Identifiers.Require(request.Id, "id")));

    /// <summary>The signed-in operator's name when operator accounts say it; else who the call came from.</summary>
    private static string OperatorName(ServerCallContext context)
        => context.UserState.TryGetValue("federated.operator", out var name) && name is string s ? s : "operator";

    public static JoinTokenInfo ToProto(Contracts.Access.JoinTokenInfo info)
    {
        var proto = new JoinTokenInfo
        {
            Id = info.Id,
            Label = info.Label,
            Uses = info.Uses,
            Used = info.Used,
            CreatedAt = Timestamp.FromDateTimeOffset(info.CreatedAt),
            ExpiresAt = Timestamp.FromDateTimeOffset(info.ExpiresAt),
            Revoked = info.Revoked,
            CreatedBy = info.CreatedBy,
        };
        proto.Clients.AddRange(info.Clients);
        return proto;
    }
}
