using Federated.Client.Hosting;
using Federated.Client.Onboarding;
using Federated.Server.Access;
using Federated.Simulations.LocalRuns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Federated.Server.Tests.Onboarding;

/// <summary>`Federated.Client enrol` in this process: what it refuses, what it writes.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class EnrolCommandTests
{
    private const string Token = "fjt1.0123456789ab.c2VjcmV0";

    [Theory]
    [InlineData("coordinator:50051", Token, null, "enrol: --server: ")]
    [InlineData("http://127.0.0.1:1", "fcc1.edge-1.c2VjcmV0", null, "enrol: --join-token: not a join token (fjt1.<id>.<secret>")]
    [InlineData("http://127.0.0.1:1", Token, "no spaces", "enrol: --client-id: Client:ClientId 'no spaces' is not valid")]
    [InlineData("https://127.0.0.1:1", Token, "bad-fingerprint", "enrol: --ca-fingerprint: 'AB:CD' is not a SHA-256 fingerprint")]
    public async Task Arguments_that_cannot_work_are_named_before_anything_is_sent(string server, string joinToken, string? clientId, string expected)
    {
        using var folder = new TemporaryDirectory();
        var error = new StringWriter();
        var arguments = clientId == "bad-fingerprint" ? Arguments(folder, server, joinToken, null) with { CaFingerprint = "AB:CD" } : Arguments(folder, server, joinToken, clientId);

        var status = await EnrolCommand.RunAsync(arguments, TextWriter.Null, error, CancellationToken.None);

        Assert.Equal(2, status);
        Assert.StartsWith(expected, error.ToString());
        Assert.False(File.Exists(folder["client.json"]));
    }

    [Fact]
    public async Task Enrol_keeps_the_credential_and_writes_the_settings_the_daemon_starts_from_and_a_spent_token_is_refused()
    {
        using var folder = new TemporaryDirectory();
        await using var server = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None, settings: new Dictionary<string, string?> { ["Server:Enrolment:Open"] = "false" });
        var (_, joinToken) = await server.App.Services.GetRequiredService<JoinTokenIssuer>().CreateAsync(1, TimeSpan.FromMinutes(10), "enrol test", "test");
        var said = new StringWriter();

        var status = await EnrolCommand.RunAsync(Arguments(folder, server.GrpcAddress, joinToken, null), said, TextWriter.Null, CancellationToken.None);

        Assert.Equal(0, status);
        var clientId = File.ReadAllText(folder["work/client-id"]).Trim(); // made up from the host name, kept for the daemon
        var credential = File.ReadAllText(folder["work/credential"]).Trim();
        Assert.StartsWith($"fcc1.{clientId}.", credential);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(folder["work/credential"]));
        Assert.Contains($"Enrolled as {clientId} with {server.GrpcAddress} (cpu, ", said.ToString());
        Assert.Contains($"Next: start the daemon with Federated.Client --config {folder["client.json"]}", said.ToString());
        using (var daemon = ClientDaemonHost.Build(["--config", folder["client.json"]]))
        {
            var options = daemon.Services.GetRequiredService<IOptions<ClientOptions>>().Value;
            Assert.Equal(server.GrpcAddress, options.ServerAddress);
            Assert.Equal(clientId, options.ClientId);
            Assert.Equal(folder["work"], options.WorkDirectory);
            Assert.Equal(folder["train.jsonl"], options.DataPath);
        }

        var error = new StringWriter();
        Assert.Equal(1, await EnrolCommand.RunAsync(Arguments(folder, server.GrpcAddress, joinToken, "another-machine"), TextWriter.Null, error, CancellationToken.None));
        Assert.StartsWith($"enrol: the coordinator at {server.GrpcAddress} refused this enrolment (Unauthenticated): ", error.ToString());
        Assert.Contains("is used up (1 of 1 enrolments)", error.ToString());
        Assert.Equal(credential, File.ReadAllText(folder["work/credential"]).Trim()); // a refusal leaves the earlier credential
    }

    [Fact]
    public async Task An_unknown_join_token_is_refused_and_nothing_is_written()
    {
        using var folder = new TemporaryDirectory();
        await using var server = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None);
        var error = new StringWriter();

        var status = await EnrolCommand.RunAsync(Arguments(folder, server.GrpcAddress, Token, "edge-1"), TextWriter.Null, error, CancellationToken.None);

        Assert.Equal(1, status);
        Assert.StartsWith($"enrol: the coordinator at {server.GrpcAddress} refused this enrolment (Unauthenticated): ", error.ToString());
        Assert.False(File.Exists(folder["client.json"]));
        Assert.False(File.Exists(folder["work/credential"]));
    }

    [Fact]
    public async Task Enrol_trusts_a_coordinator_by_its_CA_fingerprint_and_stores_it_for_the_daemon()
    {
        using var folder = new TemporaryDirectory();
        await using var server = await LocalServer.StartAsync(folder["server"], Serilog.Core.Logger.None, settings: new Dictionary<string, string?> { ["Server:Tls:Mode"] = "On" });
        var fingerprint = server.App.Services.GetRequiredService<Federated.Server.Hosting.Tls.TransportSecurity>().CaFingerprint!;
        var https = $"https://127.0.0.1:{server.GrpcPort}";
        var error = new StringWriter();
        var wrong = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData("another CA"u8));

        Assert.Equal(1, await EnrolCommand.RunAsync(Arguments(folder, https, Token, "edge-1") with { CaFingerprint = wrong }, TextWriter.Null, error, CancellationToken.None));
        Assert.StartsWith($"enrol: the coordinator at {https} presents a CA with fingerprint ", error.ToString());
        Assert.Contains($"not the expected {wrong} (Client:ServerCaFingerprint, --ca-fingerprint)", error.ToString());
        Assert.False(File.Exists(folder["client.json"]));

        var (_, joinToken) = await server.App.Services.GetRequiredService<JoinTokenIssuer>().CreateAsync(1, TimeSpan.FromMinutes(10), "tls enrol test", "test");
        Assert.Equal(0, await EnrolCommand.RunAsync(Arguments(folder, https, joinToken, "edge-1") with { CaFingerprint = fingerprint }, TextWriter.Null, TextWriter.Null, CancellationToken.None));
        using var daemon = ClientDaemonHost.Build(["--config", folder["client.json"]]);
        Assert.Equal(fingerprint, daemon.Services.GetRequiredService<IOptions<ClientOptions>>().Value.ServerCaFingerprint);
        Assert.StartsWith("fcc1.edge-1.", File.ReadAllText(folder["work/credential"]));
    }

    private static EnrolArguments Arguments(TemporaryDirectory folder, string server, string joinToken, string? clientId)
        => new(server, joinToken, null, clientId, folder["client.json"], folder["work"], folder["train.jsonl"]);
}
