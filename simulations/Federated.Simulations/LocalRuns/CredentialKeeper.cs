using System.Collections.Concurrent;
using Federated.Protos.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Federated.Simulations.LocalRuns;

/// <summary>
/// For programs that drive many clients over one channel (tests, the load bench): remembers the credential each
/// client's first Enrol returned and sends it on that client's later calls, found from the message's client_id (an
/// upload's from its header, so an upload's call starts at its first message). Calls that carry their own
/// authorization are left alone.
/// </summary>
/// <param name="fallback">Asked for a client this keeper has no credential of, and told of each new one.</param>
public sealed class CredentialKeeper(CredentialKeeper? fallback = null) : Interceptor
{
    private readonly ConcurrentDictionary<string, string> _credentials = new(StringComparer.Ordinal);

    /// <summary>A coordinator client whose calls go through <paramref name="keeper"/>.</summary>
    public static Coordinator.CoordinatorClient Client(ChannelBase channel, CredentialKeeper keeper) => new(channel.Intercept(keeper));

    /// <summary>The credential kept for <paramref name="clientId"/>, or null.</summary>
    public string? For(string clientId) => _credentials.TryGetValue(clientId, out var c) ? c : fallback?.For(clientId);

    public void Keep(string clientId, string credential)
    {
        _credentials[clientId] = credential;
        fallback?.Keep(clientId, credential);
    }

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        var withCredential = WithCredential(context, Protos.ClientIdOf.Message(request));
        var call = continuation(request, withCredential);
        if (request is not EnrolRequest enrol)
            return call;
        // A credential kept from another server (a fallback's) is refused there: the enrolment is then a first one.
        var retry = HasAuthorization(context.Options.Headers) || !HasAuthorization(withCredential.Options.Headers) ? null : new Func<AsyncUnaryCall<TResponse>>(() => continuation(request, context));
        return new AsyncUnaryCall<TResponse>(KeepFrom(enrol.ClientId, call, retry), call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation)
        => continuation(request, WithCredential(context, Protos.ClientIdOf.Message(request)));

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncClientStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        if (HasAuthorization(context.Options.Headers))
            return continuation(context);
        var deferred = new DeferredStream<TRequest, TResponse>(message => continuation(WithCredential(context, Protos.ClientIdOf.Message(message))));
        return new AsyncClientStreamingCall<TRequest, TResponse>(deferred, deferred.Response, deferred.Headers, deferred.GetStatus, deferred.GetTrailers, deferred.Dispose);
    }

    private async Task<TResponse> KeepFrom<TResponse>(string clientId, AsyncUnaryCall<TResponse> call, Func<AsyncUnaryCall<TResponse>>? withoutCredential)
    {
        TResponse reply;
        try
        {
            reply = await call.ResponseAsync;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated && withoutCredential is not null)
        {
            using var again = withoutCredential();
            reply = await again.ResponseAsync;
        }
        if (reply is EnrolReply { Credential.Length: > 0 } enrolled)
            Keep(clientId, enrolled.Credential);
        return reply;
    }

    private ClientInterceptorContext<TRequest, TResponse> WithCredential<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, string? clientId)
        where TRequest : class where TResponse : class
    {
        if (clientId is null || HasAuthorization(context.Options.Headers) || For(clientId) is not { } credential)
            return context;
        var headers = new Metadata();
        foreach (var entry in context.Options.Headers ?? [])
            headers.Add(entry);
        headers.Add("authorization", "Bearer " + credential);
        return new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithHeaders(headers));
    }

    private static bool HasAuthorization(Metadata? headers) => headers?.Get("authorization") is not null;

    /// <summary>A client stream whose call starts when its first message is written (or it is completed empty).</summary>
    private sealed class DeferredStream<TRequest, TResponse>(Func<TRequest?, AsyncClientStreamingCall<TRequest, TResponse>> start) : IClientStreamWriter<TRequest>
        where TRequest : class where TResponse : class
    {
        private readonly TaskCompletionSource<AsyncClientStreamingCall<TRequest, TResponse>> _call = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public WriteOptions? WriteOptions { get; set; }

        public Task<TResponse> Response => _call.Task.ContinueWith(c => c.Result.ResponseAsync, TaskScheduler.Default).Unwrap();

        public Task<Metadata> Headers => _call.Task.ContinueWith(c => c.Result.ResponseHeadersAsync, TaskScheduler.Default).Unwrap();

        public Status GetStatus() => Started().GetStatus();

        public Metadata GetTrailers() => Started().GetTrailers();

        public void Dispose()
        {
            if (_call.Task.IsCompletedSuccessfully)
                _call.Task.Result.Dispose();
        }

        public Task WriteAsync(TRequest message) => Call(message).RequestStream.WriteAsync(message);

        public Task WriteAsync(TRequest message, CancellationToken cancellationToken) => Call(message).RequestStream.WriteAsync(message, cancellationToken);

        public Task CompleteAsync() => Call(null).RequestStream.CompleteAsync();

        private AsyncClientStreamingCall<TRequest, TResponse> Call(TRequest? first)
        {
            if (!_call.Task.IsCompleted)
                _call.TrySetResult(start(first));
            return _call.Task.Result;
        }

        private AsyncClientStreamingCall<TRequest, TResponse> Started()
            => _call.Task.IsCompletedSuccessfully ? _call.Task.Result : throw new InvalidOperationException("the call has not started: nothing was written to it");
    }
}
