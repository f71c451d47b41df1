using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Time.Testing;

namespace Federated.Server.Tests.Access;

/// <summary>A first enrolment needs a live join token; the server keeps only the tokens' hashes.</summary>
public class JoinTokenTests
{
    private static readonly Dictionary<string, string?> Closed = new() { ["Server:Enrolment:Open"] = "false" };

    [Fact]
    public async Task A_valid_token_enrols_as_many_clients_as_its_uses_and_expired_revoked_used_up_or_forged_tokens_enrol_none()
    {
        using var folder = new TemporaryDirectory();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await TlsLoopbackServer.StartAsync(folder, settings: Closed, time: clock);
        using var channel = server.Channel();
        var admin = new Admin.AdminClient(channel);

        var none = await Updates.Refused(() => AsClient.EnrolNew(channel, "no-token"));
        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);
        Assert.Contains("needs a join token", none.Detail);

        var two = await admin.CreateJoinTokenAsync(new CreateJoinTokenRequest { Uses = 2, ExpiresInSeconds = 3600, Label = "rack 4" });
        Assert.StartsWith("fjt1." + two.Info.Id + ".", two.Token);
        await AsClient.EnrolNew(channel, "edge-1", two.Token);
        await AsClient.EnrolNew(channel, "edge-2", two.Token);
        var usedUp = await Updates.Refused(() => AsClient.EnrolNew(channel, "edge-3", two.Token));
        Assert.Equal(StatusCode.Unauthenticated, usedUp.StatusCode);
        Assert.Contains("is used up (2 of 2", usedUp.Detail);

        var forged = two.Token[..^4] + "AAAA";
        Assert.Contains("not one this server issued", (await Updates.Refused(() => AsClient.EnrolNew(channel, "edge-4", forged))).Detail);
        Assert.Contains("is not a join token", (await Updates.Refused(() => AsClient.EnrolNew(channel, "edge-4", "let-me-in"))).Detail);

        var revoked = await admin.CreateJoinTokenAsync(new CreateJoinTokenRequest { Uses = 5, ExpiresInSeconds = 3600 });
        Assert.True((await admin.RevokeJoinTokenAsync(new RevokeJoinTokenRequest { Id = revoked.Info.Id })).Revoked);
        Assert.Contains("was revoked", (await Updates.Refused(() => AsClient.EnrolNew(channel, "edge-5", revoked.Token))).Detail);

        var brief = await admin.CreateJoinTokenAsync(new CreateJoinTokenRequest { Uses = 5, ExpiresInSeconds = 60 });
        clock.Advance(TimeSpan.FromSeconds(61));
        var expired = await Updates.Refused(() => AsClient.EnrolNew(channel, "edge-6", brief.Token));
        Assert.Equal(StatusCode.Unauthenticated, expired.StatusCode);
        Assert.Contains("expired", expired.Detail);

        // A refused enrolment enrols no one: those ids have no credential and cannot call.
        foreach (var id in new[] { "no-token", "edge-3", "edge-4", "edge-5", "edge-6" })
        {
            var poll = await Updates.Refused(() => AsClient.With(channel, null).PollTaskAsync(new PollTaskRequest { ClientId = id }).ResponseAsync);
            Assert.Equal(StatusCode.Unauthenticated, poll.StatusCode);
        }
        var listed = (await admin.ListJoinTokensAsync(new ListJoinTokensRequest())).Tokens.Single(t => t.Id == two.Info.Id);
        Assert.Equal(["edge-1", "edge-2"], listed.Clients);
        Assert.Equal("rack 4", listed.Label);
        // Its hash only is kept.
        var secret = two.Token.Split('.')[2];
        var files = Directory.GetFiles(folder["server"], "*join-tokens*", SearchOption.AllDirectories);
        Assert.Equal(2, files.Length); // the state file and its second copy (FileGrainStorage.Mirrored)
        foreach (var file in files)
        {
            var stored = await File.ReadAllBytesAsync(file);
            Assert.Equal(-1, stored.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(secret)));
            Assert.True(stored.AsSpan().IndexOf(Federated.Protos.PrefixedSecret.HashOf(secret)) >= 0);
        }
    }

    [Theory]
    [InlineData(0, 60, "uses")]
    [InlineData(1, 0, "expires_in_seconds")]
    [InlineData(1, 400 * 24 * 3600, "expires")]
    public async Task A_token_with_no_uses_or_no_lifetime_is_refused_naming_the_field(int uses, long seconds, string field)
    {
        using var folder = new TemporaryDirectory();
        await using var server = await TlsLoopbackServer.StartAsync(folder, settings: Closed);
        using var channel = server.Channel();
        var refused = await Updates.Refused(() => new Admin.AdminClient(channel).CreateJoinTokenAsync(new CreateJoinTokenRequest { Uses = uses, ExpiresInSeconds = seconds }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.StartsWith(field, refused.Detail);
    }

    [Fact]
    public async Task A_first_enrolment_whose_reply_was_lost_may_be_repeated_with_its_token_until_the_credential_is_used()
    {
        using var folder = new TemporaryDirectory();
        await using var server = await TlsLoopbackServer.StartAsync(folder, settings: Closed);
        using var channel = server.Channel();
        var token = (await new Admin.AdminClient(channel).CreateJoinTokenAsync(new CreateJoinTokenRequest { Uses = 1, ExpiresInSeconds = 3600 })).Token;

        var lost = await AsClient.EnrolNew(channel, "flaky", token);
        var second = await AsClient.EnrolNew(channel, "flaky", token); // the same one-use token: not spent twice
        Assert.NotEqual(lost, second);
        Assert.Equal(StatusCode.Unauthenticated, (await Updates.Refused(() => AsClient.With(channel, lost).PollTaskAsync(new PollTaskRequest { ClientId = "flaky" }).ResponseAsync)).StatusCode);
        await AsClient.With(channel, second).PollTaskAsync(new PollTaskRequest { ClientId = "flaky" });

        var late = await Updates.Refused(() => AsClient.EnrolNew(channel, "flaky", token));
        Assert.Equal(StatusCode.PermissionDenied, late.StatusCode);
        Assert.Contains("already enrolled with its own credential", late.Detail);
    }
}
