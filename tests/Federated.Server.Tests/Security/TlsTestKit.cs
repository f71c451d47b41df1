using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Federated.Protos;
using Federated.Protos.V1;
using Federated.Server.Hosting.Tls;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;

namespace Federated.Server.Tests.Security;

/// <summary>What the TLS tests share: servers with TLS settings, channels and HTTP clients with a trust, log capture.</summary>
internal static class TlsTestKit
{
    public static Task<LocalServer> StartAsync(string data, Serilog.ILogger logger, IReadOnlyDictionary<string, string?> settings)
        => LocalServer.StartAsync(data, logger, settings: settings);

    public static string Https(LocalServer server) => $"https://127.0.0.1:{server.GrpcPort}";

    public static string HttpsDashboardPort(LocalServer server) => $"https://127.0.0.1:{server.HttpPort}";

    public static string Fingerprint(LocalServer server)
        => server.App.Services.GetRequiredService<TransportSecurity>().CaFingerprint ?? throw new InvalidOperationException("the server made no CA");

    /// <summary>Lists jobs through a channel with the trust given (null: the system's trust store).</summary>
    public static async Task<ListJobsReply> ListJobsAsync(string address, ServerTrust? trust)
    {
        using var channel = GrpcChannels.Create(address, trust: trust);
        return await new Operator.OperatorClient(channel).ListJobsAsync(new ListJobsRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
    }

    /// <summary>An HttpClient for HTTPS to <paramref name="address"/> with the trust given, noting the certificate presented.</summary>
    public static HttpClient Http(string address, ServerTrust trust, Action<X509Certificate2>? presented = null)
    {
        var handler = new SocketsHttpHandler();
        trust.ApplyTo(handler, CoordinatorAddresses.Parse(address));
        if (presented is not null)
        {
            var check = handler.SslOptions.RemoteCertificateValidationCallback!;
            handler.SslOptions.RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
            {
                presented(X509CertificateLoader.LoadCertificate(certificate!.GetRawCertData()));
                return check(sender, certificate, chain, errors);
            };
        }
        return new HttpClient(handler) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>An operator's own CA (self-signed, RSA, as a company CA would be) and a server certificate for loopback issued by it.</summary>
    public static (X509Certificate2 Ca, X509Certificate2 Server) OperatorCertificates()
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Example operator root", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        var now = DateTimeOffset.UtcNow;
        var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
        var serverKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=coordinator.example", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = request.Create(ca, now.AddDays(-1), now.AddDays(90), [1, 2, 3, 4, 5, 6, 7, 8]);
        return (ca, issued.CopyWithPrivateKey(serverKey));
    }

    public static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Keeps every log event of a test's servers and daemons, and lets a test wait for one.</summary>
internal sealed class CapturedLog : ILogEventSink
{
    private readonly Lock _lock = new();
    private readonly List<LogEvent> _events = [];
    private readonly List<(Func<LogEvent, bool> Match, TaskCompletionSource<LogEvent> Found)> _waiters = [];

    public void Emit(LogEvent logEvent)
    {
        lock (_lock)
        {
            _events.Add(logEvent);
            foreach (var waiter in _waiters.Where(w => w.Match(logEvent)).ToList())
            {
                waiter.Found.TrySetResult(logEvent);
                _waiters.Remove(waiter);
            }
        }
    }

    private static readonly Serilog.Formatting.Display.MessageTemplateTextFormatter Plain = new("{Message:l}");

    /// <summary>An event's message with its string values unquoted, as a console shows it.</summary>
    public static string Render(LogEvent logEvent)
    {
        using var text = new StringWriter();
        Plain.Format(logEvent, text);
        return text.ToString();
    }

    public IReadOnlyList<string> Messages(LogEventLevel? level = null)
    {
        lock (_lock)
            return [.. _events.Where(e => level is null || e.Level == level).Select(Render)];
    }

    /// <summary>The first event (already logged or yet to come) whose rendered message contains <paramref name="text"/>.</summary>
    public Task<LogEvent> WaitForAsync(string text, TimeSpan timeout)
    {
        bool Match(LogEvent e) => Render(e).Contains(text, StringComparison.Ordinal);
        lock (_lock)
        {
            if (_events.FirstOrDefault(Match) is { } found)
                return Task.FromResult(found);
            var waiter = new TaskCompletionSource<LogEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((Match, waiter));
            return waiter.Task.WaitAsync(timeout);
        }
    }

    /// <summary>A logger writing here and to the test's output.</summary>
    public Serilog.Core.Logger Logger(Serilog.ILogger output) => new Serilog.LoggerConfiguration()
        .MinimumLevel.Information()
        .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
        .MinimumLevel.Override("Orleans", LogEventLevel.Warning)
        .MinimumLevel.Override("Grpc", LogEventLevel.Warning)
        .WriteTo.Sink(this)
        .WriteTo.Logger(output)
        .CreateLogger();
}
