using System.Security.Cryptography;
using System.Text;
using Federated.Server.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace Federated.Server.Transport;

/// <summary>
/// Optional shared-secret authentication of client daemons: when Server:ClientToken is set, every Coordinator call
/// must carry "authorization: Bearer &lt;token&gt;", compared in constant time. Operator-side services are
/// <see cref="Access.OperatorAuthorization"/>'s.
/// </summary>
public sealed class TokenInterceptor(IOptions<ServerOptions> options) : Interceptor
{
    /// <summary>Load balancers and orchestrators probe without a token; health tells nothing secret.</summary>
    private const string HealthPrefix = "/grpc.health.v1.Health/";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    private void Check(ServerCallContext context)
    {
        if (context.Method.StartsWith(HealthPrefix, StringComparison.Ordinal) || Access.OperatorMethods.Covers(context.Method))
            return;
        var expected = options.Value.ClientToken;
        if (string.IsNullOrEmpty(expected))
            return;
        var header = context.RequestHeaders.GetValue("authorization") ?? "";
        var presented = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..] : "";
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected)))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"this server requires the client token (authorization: Bearer <token>); it was {(presented.Length == 0 ? "missing" : "wrong")}"));
        }
    }
}
