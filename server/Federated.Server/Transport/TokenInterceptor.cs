using System.Security.Cryptography;
using System.Text;
using Federated.Server.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace Federated.Server.Transport;

/// <summary>
/// Optional shared-secret authentication of operator calls: when Server:OperatorToken is set, every Operator call
/// must carry "authorization: Bearer &lt;token&gt;" (compared in constant time). Client daemons' calls are
/// <see cref="Access.ClientAuthentication"/>'s.
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
        if (context.Method.StartsWith(HealthPrefix, StringComparison.Ordinal))
            return;
        if (context.Method.StartsWith(Access.ClientAuthentication.ServicePrefix, StringComparison.Ordinal))
            return;
        var expected = options.Value.OperatorToken; // the Operator and Admin services
        if (string.IsNullOrEmpty(expected))
            return;
        var header = context.RequestHeaders.GetValue("authorization") ?? "";
        var presented = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..] : "";
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected)))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"this server requires the operator token (authorization: Bearer <token>); it was {(presented.Length == 0 ? "missing" : "wrong")}"));
        }
    }
}
