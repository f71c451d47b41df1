using System.Globalization;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Grpc.Core;

namespace Federated.Server.Tests.Access;

/// <summary>
/// Enrol, poll, heartbeat and upload are each held to a per-caller budget (Server:Enrolment:*PerMinute): the call past
/// it is RESOURCE_EXHAUSTED, names the setting and carries how long to wait; another caller's budget is untouched.
/// </summary>
public class RateLimitTests
{
    [Theory]
    [InlineData("heartbeat", "HeartbeatPerMinute")]
    [InlineData("poll", "PollPerMinute")]
    [InlineData("upload", "UploadPerMinute")]
    public async Task Each_client_is_held_to_its_own_rate_and_a_refusal_says_when_to_retry(string call, string setting)
    {
        using var folder = new TemporaryDirectory();
        await using var server = await TlsLoopbackServer.StartAsync(folder, settings: new Dictionary<string, string?> { ["Server:Enrolment:" + setting] = "3" });
        using var channel = server.Channel();
        var busy = AsClient.With(channel, await AsClient.EnrolNew(channel, "busy"));
        var calm = AsClient.With(channel, await AsClient.EnrolNew(channel, "calm"));
        // An upload with no header is refused by its handler, after the budget is spent: spending is what counts here.
        Task Call(Coordinator.CoordinatorClient client, string id) => call switch
        {
            "heartbeat" => client.HeartbeatAsync(new HeartbeatRequest { ClientId = id }).ResponseAsync,
            "poll" => client.PollTaskAsync(new PollTaskRequest { ClientId = id, WaitSeconds = 0 }).ResponseAsync,
            _ => Updates.Upload(client, header: null, payload: []),
        };
        async Task<Status> Answer(Coordinator.CoordinatorClient client, string id)
        {
            try
            {
                await Call(client, id);
                return Status.DefaultSuccess;
            }
            catch (RpcException e)
            {
                return e.Status;
            }
        }

        for (var i = 0; i < 3; i++)
            Assert.NotEqual(StatusCode.ResourceExhausted, (await Answer(busy, "busy")).StatusCode);
        var error = await Assert.ThrowsAsync<RpcException>(() => Call(busy, "busy"));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains($"too many {call} calls from client busy: at most 3 a minute (Server:Enrolment:{setting})", error.Status.Detail);
        var retryAfter = long.Parse(error.Trailers.GetValue(Server.Access.ClientAuthentication.RetryAfterTrailer)!, CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 20_000);
        Assert.NotEqual(StatusCode.ResourceExhausted, (await Answer(calm, "calm")).StatusCode); // another client's budget is its own
    }

    [Fact]
    public async Task First_enrolments_are_held_to_a_rate_per_address()
    {
        using var folder = new TemporaryDirectory();
        await using var server = await TlsLoopbackServer.StartAsync(folder, settings: new Dictionary<string, string?> { ["Server:Enrolment:EnrolPerMinute"] = "2" });
        using var channel = server.Channel();
        await AsClient.EnrolNew(channel, "first");
        await AsClient.EnrolNew(channel, "second");
        var error = await Assert.ThrowsAsync<RpcException>(() => AsClient.EnrolNew(channel, "third"));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("too many enrol calls from address 127.0.0.1: at most 2 a minute (Server:Enrolment:EnrolPerMinute)", error.Status.Detail);
        Assert.NotNull(error.Trailers.GetValue(Server.Access.ClientAuthentication.RetryAfterTrailer));
    }
}
