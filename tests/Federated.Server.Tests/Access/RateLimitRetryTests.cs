using Federated.Client.Hosting;
using Federated.Client.Transport;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Federated.Server.Tests.Access;

/// <summary>A daemon held to its rate waits as long as the coordinator asks, then carries on; a refusal for size is not retried.</summary>
public class RateLimitRetryTests
{
    [Fact]
    public void A_rate_refusal_is_waited_out_for_as_long_as_it_asks_and_one_for_size_is_not_retried()
    {
        var rate = new RpcException(new Status(StatusCode.ResourceExhausted, "too many heartbeat calls"), new Metadata { { TransientErrors.RetryAfterTrailer, "2500" } });
        Assert.True(TransientErrors.IsTransient(rate));
        Assert.Equal(TimeSpan.FromMilliseconds(2500), TransientErrors.Wait(rate, TimeSpan.FromSeconds(1)));
        Assert.Equal(TimeSpan.FromSeconds(4), TransientErrors.Wait(rate, TimeSpan.FromSeconds(4))); // the backoff, when longer
        var size = new RpcException(new Status(StatusCode.ResourceExhausted, "update of 9 bytes exceeds the server's limit"));
        Assert.False(TransientErrors.IsTransient(size));
        Assert.False(TransientErrors.IsTransportFailure(size));
    }

    [Fact]
    public async Task A_call_refused_for_rate_is_sent_again_after_the_wait_and_answered()
    {
        using var folder = new TemporaryDirectory();
        await using var server = await TlsLoopbackServer.StartAsync(folder, settings: new Dictionary<string, string?> { ["Server:Enrolment:HeartbeatPerMinute"] = "60" });
        using var channel = server.Channel();
        var credential = await AsClient.EnrolNew(channel, "eager");
        var client = AsClient.With(channel, credential);
        for (var i = 0; i < 60; i++)
            await client.HeartbeatAsync(new HeartbeatRequest { ClientId = "eager" });

        var options = Options.Create(new ClientOptions { ServerAddress = server.GrpcAddress, WorkDirectory = folder["work"], ReconnectMinSeconds = 0.01, ReconnectMaxSeconds = 0.02 });
        var health = new DaemonHealth();
        var retry = new TransportRetry(options, health, TimeProvider.System, NullLogger<TransportRetry>.Instance);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await retry.RunAsync("none", "heartbeat", null, token => client.HeartbeatAsync(new HeartbeatRequest { ClientId = "eager" }, cancellationToken: token).ResponseAsync, timeout.Token);
        Assert.True(health.Unreachable >= 1, "the first try was refused for rate and retried");
    }
}
