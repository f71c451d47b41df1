using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Federated.Protos;
using Federated.Server.Hosting;
using Federated.Server.Hosting.Tls;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Serilog.Events;
using Xunit.Abstractions;
using static Federated.Server.Tests.Security.TlsTestKit;

namespace Federated.Server.Tests.Security;

/// <summary>The coordinator over real TLS on loopback: its own CA, an operator's certificate, and when plain HTTP is allowed.</summary>
public class TlsServerTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string?> On = new() { ["Server:Tls:Mode"] = "On" };

    [Fact]
    public async Task A_server_with_its_own_ca_answers_clients_that_trust_it_by_fingerprint_or_file()
    {
        using var folder = new TemporaryDirectory();
        await using var test = TestLogging.For(output);
        var log = new CapturedLog();
        await using var logger = log.Logger(test);
        await using var server = await StartAsync(folder["server"], logger, On);

        var fingerprint = Fingerprint(server);
        var caFile = Path.Combine(folder["server"], "tls", "ca.pem");
        Assert.Equal(fingerprint, ServerTrust.Fingerprint(X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(caFile))));
        Assert.Matches("^([0-9A-F]{2}:){31}[0-9A-F]{2}$", fingerprint);
        Assert.Contains(log.Messages(LogEventLevel.Information), m => m.Contains($"TLS CA fingerprint (SHA-256): {fingerprint}", StringComparison.Ordinal));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder["server"], "tls", "ca.key")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder["server"], "tls", "server.key")));
        }

        await ListJobsAsync(Https(server), new ServerTrust(CaFingerprint: fingerprint));
        await ListJobsAsync(Https(server), new ServerTrust(CaFingerprint: fingerprint.Replace(":", "", StringComparison.Ordinal).ToLowerInvariant()));
        await ListJobsAsync(Https(server), new ServerTrust(CaFile: caFile));
        // By host name too: the certificate names localhost.
        await ListJobsAsync($"https://localhost:{server.GrpcPort}", new ServerTrust(CaFingerprint: fingerprint));

        // The self-made CA is in no system trust store, so a client that brings no trust is refused by its TLS stack.
        var untrusted = await Assert.ThrowsAsync<RpcException>(() => ListJobsAsync(Https(server), trust: null));
        var reason = ServerTrustException.Find(untrusted)?.Message;
        Assert.Contains($"the certificate the coordinator at {Https(server)} presents", reason);
        Assert.Contains("is not trusted by this machine", reason);
        Assert.Contains("Client:ServerCaFingerprint", reason);
        // And plain HTTP/2 to the TLS port gets no answer.
        await Assert.ThrowsAsync<RpcException>(() => ListJobsAsync($"http://127.0.0.1:{server.GrpcPort}", trust: null));
    }

    [Fact]
    public async Task A_client_expecting_another_ca_is_refused_with_what_to_check()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        await using var server = await StartAsync(folder["server"], logger, On);
        var other = new string('A', 64);

        var refused = await Assert.ThrowsAsync<RpcException>(() => ListJobsAsync(Https(server), new ServerTrust(CaFingerprint: other)));
        var reason = ServerTrustException.Find(refused)?.Message;
        Assert.NotNull(reason);
        Assert.Contains($"the coordinator at {Https(server)} presents a CA with fingerprint {Fingerprint(server)}, not the expected {other}", reason);
        Assert.Contains("Client:ServerCaFingerprint", reason);
        Assert.Contains("ask the operator for the fingerprint the coordinator logs at start", reason);

        // A CA file holding another CA is refused likewise, naming the file.
        using var elsewhere = new TemporaryDirectory();
        await using (var another = await StartAsync(elsewhere["server"], logger, On))
        {
        }
        var wrongFile = Path.Combine(elsewhere["server"], "tls", "ca.pem");
        var refusedByFile = await Assert.ThrowsAsync<RpcException>(() => ListJobsAsync(Https(server), new ServerTrust(CaFile: wrongFile)));
        Assert.Contains($"is not issued by the CA in {wrongFile}", ServerTrustException.Find(refusedByFile)?.Message);
    }

    [Fact]
    public async Task The_self_made_ca_and_server_certificate_are_kept_across_restarts()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var certificate = Path.Combine(folder["server"], "tls", "server.pem");
        string fingerprint;
        string issued;
        await using (var first = await StartAsync(folder["server"], logger, On))
        {
            fingerprint = Fingerprint(first);
            issued = await File.ReadAllTextAsync(certificate);
        }
        await using (var second = await StartAsync(folder["server"], logger, On))
        {
            Assert.Equal(fingerprint, Fingerprint(second));
            Assert.Equal(issued, await File.ReadAllTextAsync(certificate));
            await ListJobsAsync(Https(second), new ServerTrust(CaFingerprint: fingerprint));
        }
        // Another host name: a new server certificate from the same CA.
        await using var third = await StartAsync(folder["server"], logger, new Dictionary<string, string?>(On) { ["Server:Tls:Hosts:0"] = "coordinator.example" });
        Assert.Equal(fingerprint, Fingerprint(third));
        var reissued = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(certificate));
        Assert.Contains("coordinator.example", TlsCertificates.Names(reissued));
        await ListJobsAsync(Https(third), new ServerTrust(CaFingerprint: fingerprint));
    }

    [Fact]
    public async Task An_operators_pem_certificate_is_served_on_both_ports()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var (ca, issued) = OperatorCertificates();
        await File.WriteAllTextAsync(folder["ca.pem"], ca.ExportCertificatePem());
        await File.WriteAllTextAsync(folder["server.pem"], issued.ExportCertificatePem());
        await File.WriteAllTextAsync(folder["server.key"], issued.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        await using var server = await StartAsync(folder["server"], logger, new Dictionary<string, string?>(On)
        {
            ["Server:Tls:Certificate"] = folder["server.pem"],
            ["Server:Tls:Key"] = folder["server.key"],
        });

        await ListJobsAsync(Https(server), new ServerTrust(CaFile: folder["ca.pem"]));
        string? presented = null;
        using var http = Http(HttpsDashboardPort(server), new ServerTrust(CaFile: folder["ca.pem"]), c => presented = c.Thumbprint);
        using (var health = await http.GetAsync("/health"))
            Assert.True(health.IsSuccessStatusCode, $"/health answered {health.StatusCode}");
        Assert.Equal(issued.Thumbprint, presented);
        Assert.False(Directory.Exists(Path.Combine(folder["server"], "tls")), "the coordinator made a CA although it was given a certificate");
    }

    [Theory]
    [InlineData("certificate only", "Server:Tls:Certificate and Server:Tls:Key go together")]
    [InlineData("missing file", "Server:Tls:Certificate: '")]
    [InlineData("another key", "Server:Tls:Key: '")]
    public async Task Broken_operator_certificate_settings_stop_the_server_naming_them(string broken, string expected)
    {
        using var folder = new TemporaryDirectory();
        var (_, issued) = OperatorCertificates();
        var (_, other) = OperatorCertificates();
        await File.WriteAllTextAsync(folder["server.pem"], issued.ExportCertificatePem());
        await File.WriteAllTextAsync(folder["other.key"], other.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        var settings = new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = folder["server"],
            ["Server:Tls:Certificate"] = broken == "missing file" ? folder["absent.pem"] : folder["server.pem"],
            ["Server:Tls:Key"] = broken == "certificate only" ? null : folder["other.key"],
        };
        var error = Assert.Throws<OptionsValidationException>(() => FederatedServerHost.Build([], settings, Serilog.Core.Logger.None));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_host_name_that_is_none_stops_the_server_naming_it()
    {
        var error = Assert.Throws<OptionsValidationException>(() => FederatedServerHost.Build([], new Dictionary<string, string?>
        {
            ["Server:Tls:Hosts:0"] = "not a host!",
        }, Serilog.Core.Logger.None));
        Assert.Contains("Server:Tls:Hosts: 'not a host!' is neither a DNS name nor an IP address", error.Message);
    }

    [Fact]
    public void Plain_http_beyond_loopback_is_refused_without_allow_insecure()
    {
        var error = Assert.Throws<OptionsValidationException>(() => FederatedServerHost.Build([], new Dictionary<string, string?>
        {
            ["Server:ListenAddress"] = "0.0.0.0",
            ["Server:Tls:Mode"] = "Off",
        }, Serilog.Core.Logger.None));
        Assert.Contains("Server:Tls:Mode is Off but Server:ListenAddress 0.0.0.0 is reachable from other machines", error.Message);
        Assert.Contains("Server:AllowInsecure=true", error.Message);
    }

    [Fact]
    public async Task Allowed_plain_http_beyond_loopback_is_warned_of_at_start_and_on_the_dashboard()
    {
        using var folder = new TemporaryDirectory();
        await using var test = TestLogging.For(output);
        var log = new CapturedLog();
        await using var logger = log.Logger(test);
        await using var server = await StartAsync(folder["server"], logger, new Dictionary<string, string?>(Dashboard)
        {
            ["Server:ListenAddress"] = "0.0.0.0",
            ["Server:Tls:Mode"] = "Off",
            ["Server:AllowInsecure"] = "true",
            ["Server:Operators:RequireCredentials"] = "false", // the transport alone is under test
        });
        Assert.Contains(log.Messages(LogEventLevel.Warning), m => m.Contains("Plain HTTP on 0.0.0.0, reachable from other machines (Server:AllowInsecure=true)", StringComparison.Ordinal));
        using var http = new HttpClient { BaseAddress = new Uri(server.HttpAddress) };
        var session = await http.GetFromJsonAsync<JsonObject>("/dashboard/api/session");
        Assert.True(session!["insecure"]!.GetValue<bool>());
        await ListJobsAsync(server.GrpcAddress, trust: null);
    }

    [Fact]
    public async Task Listening_on_every_interface_serves_tls_on_both_ports_by_default()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        // Operator calls beyond loopback need a credential by default; this test is about the transport alone.
        await using var server = await StartAsync(folder["server"], logger, new Dictionary<string, string?>(Dashboard) { ["Server:ListenAddress"] = "0.0.0.0", ["Server:Operators:RequireCredentials"] = "false" });
        var trust = new ServerTrust(CaFingerprint: Fingerprint(server));

        await ListJobsAsync(Https(server), trust);
        using var https = Http(HttpsDashboardPort(server), trust);
        var session = await https.GetFromJsonAsync<JsonObject>("/dashboard/api/session");
        Assert.False(session!["insecure"]!.GetValue<bool>());
        using var plain = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}"), Timeout = TimeSpan.FromSeconds(30) };
        await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetStringAsync("/health"));
    }

    [Fact]
    public async Task A_loopback_server_stays_plain_with_nothing_configured()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        await using var server = await StartAsync(folder["server"], logger, Dashboard);
        await ListJobsAsync(server.GrpcAddress, trust: null);
        using var http = new HttpClient { BaseAddress = new Uri(server.HttpAddress) };
        var session = await http.GetFromJsonAsync<JsonObject>("/dashboard/api/session");
        Assert.False(session!["insecure"]!.GetValue<bool>());
        Assert.False(Directory.Exists(Path.Combine(folder["server"], "tls")));
    }

    private static readonly Dictionary<string, string?> Dashboard = new()
    {
        ["Server:Dashboard:Enabled"] = "true",
        ["Server:Dashboard:GeneratePassword"] = "true",
    };
}
