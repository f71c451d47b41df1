using Federated.Client.Transport;
using Federated.Server.Transport;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace Federated.Server.Tests.Transport;

/// <summary>
/// A grain call that times out (a job's scheduler grain swamped by a load bench's 1,000 daemons did, and the uploads
/// came back INTERNAL) is UNAVAILABLE, which the daemon retries; anything unforeseen stays INTERNAL.
/// </summary>
public class ErrorInterceptorTests
{
    [Fact]
    public async Task A_grain_call_timeout_is_unavailable_so_the_daemon_retries_and_anything_unforeseen_is_internal()
    {
        var interceptor = new ErrorInterceptor(NullLogger<ErrorInterceptor>.Instance);
        var context = new CallContext("/federated.v1.Coordinator/UploadUpdate");

        var busy = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>("x", context, (_, _) => throw new TimeoutException("Response did not arrive on time in 00:00:30")));
        Assert.Equal(StatusCode.Unavailable, busy.StatusCode);
        Assert.Contains("the coordinator is too busy to answer /federated.v1.Coordinator/UploadUpdate now", busy.Status.Detail);
        Assert.True(TransientErrors.IsTransient(busy));
        Assert.True(TransientErrors.IsTransportFailure(busy)); // an upload is sent again (resumed), not dropped

        var broken = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>("x", context, (_, _) => throw new InvalidCastException()));
        Assert.Equal(StatusCode.Internal, broken.StatusCode);
    }

    private sealed class CallContext(string method) : ServerCallContext
    {
        protected override string MethodCore => method;
        protected override string HostCore => "127.0.0.1";
        protected override string PeerCore => "ipv4:127.0.0.1:1";
        protected override DateTime DeadlineCore => DateTime.MaxValue;
        protected override Metadata RequestHeadersCore { get; } = [];
        protected override CancellationToken CancellationTokenCore => CancellationToken.None;
        protected override Metadata ResponseTrailersCore { get; } = [];
        protected override Status StatusCore { get; set; }
        protected override WriteOptions? WriteOptionsCore { get; set; }
        protected override AuthContext AuthContextCore => new(null, []);
        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();
        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}
