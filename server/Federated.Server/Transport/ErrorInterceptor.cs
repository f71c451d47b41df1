using Federated.Contracts;
using Federated.Contracts.Errors;
using Federated.Core.Adapters;
using Federated.Core.Data;
using Federated.Core.Tensors;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Federated.Server.Transport;

/// <summary>Turns refusals into gRPC statuses with their messages, a grain call's timeout into UNAVAILABLE, and anything unexpected into INTERNAL (logged).</summary>
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
            return await continuation(new HangUpAwareReader<TRequest>(requestStream), context);
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
            case TimeoutException:
                // A grain call that waited past Orleans' response timeout: the grain is busy (one scheduler per job
                // takes every upload and poll of that job), not broken. UNAVAILABLE makes the daemon retry, which is
                // safe: every call it makes is idempotent (an upload is recognised by its hash).
                LogOverloaded(logger, context.Method, exception.Message);
                return new RpcException(new Status(StatusCode.Unavailable, $"the coordinator is too busy to answer {context.Method} now ({exception.Message}); retry"));
            case CallerHungUpException:
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                // The caller went away: nothing failed here (and it hears no reply).
                return new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled"));
            default:
                LogFailed(logger, exception, context.Method);
                return new RpcException(new Status(StatusCode.Internal, $"the server failed to handle {context.Method}; see its log"));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} timed out inside the server, answered UNAVAILABLE: {Reason}")]
    private static partial void LogOverloaded(ILogger logger, string method, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} refused ({Error}): {Reason}")]
    private static partial void LogRefused(ILogger logger, string method, string error, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string method);
}

/// <summary>The caller reset its request stream while the server read it (Kestrel reports that as an IOException).</summary>
public sealed class CallerHungUpException(Exception inner) : Exception("the caller ended its request stream", inner);

/// <summary>A request stream whose read failures are the caller's hang-up, told apart from the server's own I/O errors.</summary>
internal sealed class HangUpAwareReader<T>(IAsyncStreamReader<T> inner) : IAsyncStreamReader<T>
{
    public T Current => inner.Current;

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        try
        {
            return await inner.MoveNext(cancellationToken);
        }
        catch (IOException e) when (e is not Google.Protobuf.InvalidProtocolBufferException) // a message that does not parse is the caller's fault, not a hang-up
        {
            throw new CallerHungUpException(e);
        }
    }
}
