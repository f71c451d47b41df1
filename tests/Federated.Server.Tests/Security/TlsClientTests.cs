using Federated.Client.Hosting;
using Federated.Protos;
using Federated.Simulations.Commands;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;
using static Federated.Server.Tests.Security.TlsTestKit;

namespace Federated.Server.Tests.Security;

/// <summary>Daemons and the command-line tool against a TLS coordinator: its CA trusted by fingerprint, a mismatch refused.</summary>
public class TlsClientTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string?> On = new() { ["Server:Tls:Mode"] = "On" };

    [Fact]
    public async Task A_daemon_enrols_with_the_right_fingerprint_and_refuses_a_coordinator_whose_ca_differs()
    {
        using var folder = new TemporaryDirectory();
        await using var test = TestLogging.For(output);
        var log = new CapturedLog();
        await using var logger = log.Logger(test);
        await using var server = await StartAsync(folder["server"], logger, On);
        File.WriteAllLines(folder["train.jsonl"], ["""{"prompt":"a","completion":"b"}"""]);

        using (var trusting = Daemon(folder, "trusting", Https(server), Fingerprint(server).Replace(":", "", StringComparison.Ordinal), logger))
        {
            await trusting.StartAsync();
            await log.WaitForAsync($"Enrolled as trusting with {Https(server)}", TimeSpan.FromSeconds(60));
            await trusting.StopAsync();
        }

        var other = string.Join(':', Enumerable.Repeat("AB", 32));
        using var wary = Daemon(folder, "wary", Https(server), other, logger);
        await wary.StartAsync();
        var health = wary.Services.GetRequiredService<DaemonHealth>();
        await health.UnreachableAtLeast(1).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Contains($"presents a CA with fingerprint {Fingerprint(server)}, not the expected {other}", health.Untrusted);
        var logged = await log.WaitForAsync("The coordinator is not trusted", TimeSpan.FromSeconds(30));
        Assert.Equal(Serilog.Events.LogEventLevel.Error, logged.Level);
        Assert.DoesNotContain(log.Messages(), m => m.Contains("Enrolled as wary", StringComparison.Ordinal));
        await wary.StopAsync();
    }

    [Theory]
    [InlineData("Client:ServerCaFingerprint", "AB:CD", "Client:ServerCaFingerprint: 'AB:CD' is not a SHA-256 fingerprint")]
    [InlineData("Client:ServerCaFile", "/no/such/ca.pem", "Client:ServerCaFile: '/no/such/ca.pem': no such file")]
    public async Task Bad_trust_settings_stop_the_daemon_naming_them(string key, string value, string expected)
    {
        using var host = ClientDaemonHost.Build([], new Dictionary<string, string?> { [key] = value }, Serilog.Core.Logger.None, standalone: false);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public async Task A_daemon_given_both_a_fingerprint_and_a_ca_file_is_stopped_at_start()
    {
        using var folder = new TemporaryDirectory();
        await File.WriteAllTextAsync(folder["ca.pem"], TlsTestKit.OperatorCertificates().Ca.ExportCertificatePem());
        using var host = ClientDaemonHost.Build([], new Dictionary<string, string?>
        {
            ["Client:ServerCaFingerprint"] = new string('a', 64),
            ["Client:ServerCaFile"] = folder["ca.pem"],
        }, Serilog.Core.Logger.None, standalone: false);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("both ServerCaFingerprint and ServerCaFile are set", error.Message);
    }

    [Fact]
    public async Task The_cli_prints_what_to_check_when_the_ca_differs_and_works_with_the_right_one()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        await using var server = await StartAsync(folder["server"], logger, On);
        var other = new string('0', 64);

        var (refused, _, refusal) = await Cli("job", "list", "--server", Https(server), "--ca-fingerprint", other);
        Assert.Equal(1, refused);
        Assert.Contains($"Not connecting: the coordinator at {Https(server)} presents a CA with fingerprint {Fingerprint(server)}, not the expected {other}", refusal);

        var (listed, _, listError) = await Cli("job", "list", "--server", Https(server), "--ca-file", Path.Combine(folder["server"], "tls", "ca.pem"));
        Assert.True(listed == 0, listError);
        var (fingerprinted, _, fingerprintError) = await Cli("job", "list", "--server", Https(server), "--ca-fingerprint", Fingerprint(server));
        Assert.True(fingerprinted == 0, fingerprintError);

        var (malformed, _, malformedError) = await Cli("job", "list", "--server", Https(server), "--ca-fingerprint", "nope");
        Assert.NotEqual(0, malformed);
        Assert.Contains("--ca-fingerprint: 'nope' is not a SHA-256 fingerprint", malformedError);
    }

    private static IHost Daemon(TemporaryDirectory folder, string clientId, string address, string fingerprint, Serilog.ILogger logger)
        => ClientDaemonHost.Build([], new Dictionary<string, string?>
        {
            ["Client:ServerAddress"] = address,
            ["Client:ServerCaFingerprint"] = fingerprint,
            ["Client:ClientId"] = clientId,
            ["Client:DataPath"] = folder["train.jsonl"],
            ["Client:WorkDirectory"] = folder[$"work-{clientId}"],
            ["Client:Device"] = "cpu",
            ["Client:ReconnectMinSeconds"] = "5",
        }, logger, standalone: false);

    private static async Task<(int Code, string Output, string Error)> Cli(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await FederatedCli.Create().Parse(args).InvokeAsync(new() { Output = stdout, Error = stderr });
        return (code, stdout.ToString(), stderr.ToString());
    }
}
