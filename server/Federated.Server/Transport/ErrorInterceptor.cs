using Federated.Contracts;
using Federated.Contracts.Errors;
using Federated.Core.Adapters;
using Federated.Core.Data;
using Federated.Core.Tensors;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Federated.Server.Transport;

/// <summary>Turns refusals into gRPC statuses with their messages, and anything unexpected into INTERNAL (logged).</summary>
public sealed partial class ErrorInterceptor(ILogger<ErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (Translate(e, context) is { } status)
        {
            throw status;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception e) when (Translate(e, context) is { } status)
        {
            throw status;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception e) when (Translate(e, context) is { } status)
        {
            throw status;
        }
    }

    private RpcException? Translate(Exception exception, ServerCallContext context)
    {
        switch (exception)
        {
            case RpcException:
                return null;
            case FederatedException f:
                LogRefused(logger, context.Method, f.Error.ToString(), f.Message);
                return new RpcException(new Status(ErrorStatus.Grpc(f.Error), f.Message));
            case Google.Protobuf.InvalidProtocolBufferException:
                // A message of a stream that does not parse (the first of a unary call is read before interceptors; see UnparsableRequests).
                LogRefused(logger, context.Method, nameof(FederatedError.InvalidArgument), $"a request message is not valid protobuf: {exception.Message}");
                return new RpcException(new Status(StatusCode.InvalidArgument, Excerpt.Detail($"a request message is not valid protobuf for {context.Method}: {exception.Message}")));
            case AdapterFormatException or SafeTensorsFormatException or DataFormatException:
                LogRefused(logger, context.Method, nameof(FederatedError.InvalidArgument), exception.Message);
                return new RpcException(new Status(StatusCode.InvalidArgument, Excerpt.Detail(exception.Message)));
            case OperationCanceledException or IOException when context.CancellationToken.IsCancellationRequested:
                // The caller went away (a reset request stream reads as an IOException): nothing failed here.
                return new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
            default:
                LogFailed(logger, exception, context.Method);
                return new RpcException(new Status(StatusCode.Internal, $"the server failed to handle {context.Method}; see its log"));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} refused ({Error}): {Reason}")]
    private static partial void LogRefused(ILogger logger, string method, string error, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string method);
}
