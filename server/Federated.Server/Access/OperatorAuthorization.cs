using Federated.Contracts.Access;
using Federated.Server.Hosting;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace Federated.Server.Access;

/// <summary>
/// Authenticates and authorizes every call of the operator-side services (<see cref="OperatorMethods"/>) and
/// records the audited ones, and every refusal, in the <see cref="AuditTrail"/>. Sits outside
/// <c>ErrorInterceptor</c>, so it sees each call's outcome as a gRPC status.
/// </summary>
public sealed class OperatorAuthorization(
    OperatorAccounts accounts,
    AuditTrail audit,
    IOptions<OperatorAccessOptions> access,
    IOptions<ServerOptions> server) : Interceptor
{
    private const string SignIn = "SignIn";

    /// <summary>Whether a call without a credential is refused (else it acts as an anonymous admin).</summary>
    public static bool Required(OperatorAccessOptions access, ServerOptions server)
        => !string.IsNullOrEmpty(server.OperatorToken)
           || (access.RequireCredentials ?? !System.Net.IPAddress.IsLoopback(System.Net.IPAddress.Parse(server.ListenAddress)));

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (await AuthorizeAsync(context) is not var (caller, rule))
            return await continuation(request, context);
        if (!rule.Audited)
            return await continuation(request, context);
        try
        {
            var response = await continuation(request, context);
            await RecordAsync(caller, context, AuditOutcome.Done, Target(request as IMessage, response as IMessage), Summary(request as IMessage));
            return response;
        }
        catch (Exception e)
        {
            await RecordFailureAsync(caller, context, e, Target(request as IMessage, null));
            throw;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        // No operator method streams its requests; were one added, it is authorized all the same.
        await AuthorizeAsync(context);
        return await continuation(requestStream, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (await AuthorizeAsync(context) is not var (caller, rule) || !rule.Audited)
        {
            await continuation(request, responseStream, context);
            return;
        }
        try
        {
            await continuation(request, responseStream, context);
            await RecordAsync(caller, context, AuditOutcome.Done, Target(request as IMessage, null), Summary(request as IMessage));
        }
        catch (Exception e)
        {
            await RecordFailureAsync(caller, context, e, Target(request as IMessage, null));
            throw;
        }
    }

    /// <returns>Null for a method that is none of ours; else the caller and the method's rule (the caller is attached to the call).</returns>
    private async Task<(OperatorPrincipal Caller, MethodRule Rule)?> AuthorizeAsync(ServerCallContext context)
    {
        if (!OperatorMethods.Covers(context.Method))
            return null;
        var header = context.RequestHeaders.GetValue("authorization") ?? "";
        var presented = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..] : "";
        OperatorPrincipal? caller;
        if (presented.Length > 0)
            caller = await accounts.FromBearerAsync(presented);
        else
            caller = Required(access.Value, server.Value) ? null : OperatorPrincipal.Anonymous;
        if (caller is null)
        {
            var why = presented.Length == 0 ? "missing" : "wrong";
            await audit.RecordAsync(Claimed(presented), null, SignIn, OperatorMethods.ShortName(context.Method), AuditOutcome.Refused, $"credential {why}", From(context), AuditTrail.Grpc);
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"this server requires operator credentials (authorization: Bearer <an account's key>, <name>:<password>, or the operator token); they were {why}"));
        }
        if (!OperatorMethods.Rules.TryGetValue(context.Method, out var rule))
        {
            await RecordAsync(caller, context, AuditOutcome.Refused, "", "the method is in no role's table");
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{context.Method} is not open to any role on this server"));
        }
        if (!caller.Role.Allows(rule.Role))
        {
            var why = $"needs role {rule.Role.Name()}; {caller.Who} has role {caller.Role.Name()}";
            await RecordAsync(caller, context, AuditOutcome.Refused, "", why);
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{OperatorMethods.ShortName(context.Method)} {why}"));
        }
        caller.Attach(context);
        return (caller, rule);
    }

    private Task RecordAsync(OperatorPrincipal caller, ServerCallContext context, string outcome, string target, string detail)
        => audit.RecordAsync(caller.Who, caller.Role, OperatorMethods.ShortName(context.Method), target, outcome, detail, From(context), AuditTrail.Grpc);

    private Task RecordFailureAsync(OperatorPrincipal caller, ServerCallContext context, Exception e, string target)
    {
        // A status the service chose (a bad argument, a job that is not running) is a refusal; anything else failed.
        var (outcome, detail) = e is RpcException rpc && rpc.StatusCode is not (StatusCode.Internal or StatusCode.Unknown or StatusCode.Unavailable)
            ? (AuditOutcome.Refused, $"{rpc.StatusCode}: {rpc.Status.Detail}")
            : (AuditOutcome.Failed, e is RpcException r ? $"{r.StatusCode}: {r.Status.Detail}" : e.GetType().Name);
        return RecordAsync(caller, context, outcome, target, detail);
    }

    private static string From(ServerCallContext context)
        => context.GetHttpContext().Connection.RemoteIpAddress?.ToString() ?? context.Peer;

    /// <summary>Who an unproven credential claims to be: the name of "name:…" or "fop1.name.…", never the secret.</summary>
    private static string Claimed(string presented)
    {
        if (presented.Length == 0)
            return "(no credential)";
        if (Protos.PrefixedSecret.TryParse(presented, OperatorAccounts.KeyPrefix, out var key))
            return Contracts.Excerpt.Of(key.Id);
        var colon = presented.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 ? Contracts.Excerpt.Of(presented[..colon]) : "(a token)";
    }

    private static readonly HashSet<string> TargetFields = ["job_id", "client_id", "id", "name"];

    /// <summary>"job_id=…" from the request, or from the reply (a generated id), one level into spec/info too.</summary>
    public static string Target(IMessage? request, IMessage? response)
        => Find(request) ?? Find(response) ?? "";

    private static string? Find(IMessage? message)
    {
        if (message is null)
            return null;
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            if (field.FieldType == FieldType.String && !field.IsRepeated && !field.IsMap && TargetFields.Contains(field.Name) && field.Accessor.GetValue(message) is string { Length: > 0 } value)
                return $"{field.Name}={value}";
        }
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            if (field.FieldType == FieldType.Message && !field.IsRepeated && !field.IsMap && field.Name is "spec" or "info" && Find(field.Accessor.GetValue(message) as IMessage) is { } nested)
                return nested;
        }
        return null;
    }

    /// <summary>The request's other scalar fields ("role=operator", "uses=3 …"); operator requests carry no secrets.</summary>
    public static string Summary(IMessage? request)
    {
        if (request is null)
            return "";
        var parts = new List<string>();
        foreach (var field in request.Descriptor.Fields.InFieldNumberOrder())
        {
            if (field.IsRepeated || field.IsMap || field.FieldType == FieldType.Message || field.FieldType == FieldType.Bytes || TargetFields.Contains(field.Name))
                continue;
            var value = field.Accessor.GetValue(request);
            if (value is null || (value is string s && s.Length == 0) || value.Equals(0) || value.Equals(0L) || value.Equals(false))
                continue;
            parts.Add($"{field.Name}={Contracts.Excerpt.Of(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "")}");
        }
        return string.Join(' ', parts);
    }
}
