using Federated.Client.Onboarding;
using Federated.Simulations.LocalRuns;

namespace Federated.Server.Tests.Onboarding;

/// <summary>`Federated.Client enrol` in this process: what it refuses, what it writes.</summary>
public class EnrolCommandTests
{
    private const string Token = "fjt1.0123456789ab.c2VjcmV0";

    [Theory]
    [InlineData("coordinator:50051", Token, null, "enrol: --server: ")]
    [InlineData("http://127.0.0.1:1", "fcc1.edge-1.c2VjcmV0", null, "enrol: --join-token: not a join token (fjt1.<id>.<secret>")]
    [InlineData("http://127.0.0.1:1", Token, "no spaces", "enrol: --client-id: Client:ClientId 'no spaces' is not valid")]
    public async Task Arguments_that_cannot_work_are_named_before_anything_is_sent(string server, string joinToken, string? clientId, string expected)
    {
        using var folder = new TemporaryDirectory();
        var error = new StringWriter();

        var status = await EnrolCommand.RunAsync(Arguments(folder, server, joinToken, clientId), TextWriter.Null, error, CancellationToken.None);

        Assert.Equal(2, status);
        Assert.StartsWith(expected, error.ToString());
        Assert.False(File.Exists(folder["client.json"]));
    }

    [Fact]
    public async Task A_refused_enrolment_says_why_and_writes_nothing()
    {
        using var folder = new TemporaryDirectory();
        await using var server = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None, settings: new Dictionary<string, string?> { ["Server:ClientToken"] = "shared" });
        var error = new StringWriter();

        var status = await EnrolCommand.RunAsync(Arguments(folder, server.GrpcAddress, Token, "edge-1"), TextWriter.Null, error, CancellationToken.None);

        Assert.Equal(1, status);
        Assert.StartsWith($"enrol: the coordinator at {server.GrpcAddress} refused the join token (Unauthenticated): ", error.ToString());
        Assert.EndsWith("; ask an operator for a new one" + Environment.NewLine, error.ToString());
        Assert.False(File.Exists(folder["client.json"]));
        Assert.False(File.Exists(folder["work/credential"]));
    }

    private static EnrolArguments Arguments(TemporaryDirectory folder, string server, string joinToken, string? clientId)
        => new(server, joinToken, null, clientId, folder["client.json"], folder["work"], folder["train.jsonl"]);
}
