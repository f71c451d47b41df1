using System.Globalization;
using Federated.Server.Hosting;
using Federated.Server.Hosting.Tls;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Federated.Simulations.LocalRuns;

/// <summary>A coordinator running in this process on loopback ports, as `federated run` and the tests use it.</summary>
public sealed class LocalServer : IAsyncDisposable
{
    private LocalServer(WebApplication app, string dataDirectory, int grpcPort, int httpPort, int siloPort)
    {
        App = app;
        DataDirectory = dataDirectory;
        GrpcPort = grpcPort;
        HttpPort = httpPort;
        SiloPort = siloPort;
    }

    public WebApplication App { get; }

    public string DataDirectory { get; }

    public int GrpcPort { get; }

    public int HttpPort { get; }

    public int SiloPort { get; }

    /// <summary>https when the server was started with TLS (Server:Tls:Mode On), else http.</summary>
    public string Scheme => App.Services.GetRequiredService<TransportSecurity>().Tls ? "https" : "http";

    public string GrpcAddress => $"{Scheme}://127.0.0.1:{GrpcPort}";

    public string HttpAddress => $"{Scheme}://127.0.0.1:{HttpPort}";

    public static async Task<LocalServer> StartAsync(
        string dataDirectory,
        Serilog.ILogger logger,
        int grpcPort = 0,
        int httpPort = 0,
        int siloPort = 0,
        IReadOnlyDictionary<string, string?>? settings = null,
        TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        // Ports drawn here may be taken by another process before the server binds them: draw again then.
        var chosen = grpcPort == 0 || httpPort == 0 || siloPort == 0;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(dataDirectory, logger, FreePorts.OrNext(grpcPort), FreePorts.OrNext(httpPort), FreePorts.OrNext(siloPort), settings, time, cancellationToken);
            }
            catch (Exception e) when (chosen && attempt < 5 && FreePorts.IsAddressInUse(e))
            {
                logger.Warning("A port drawn for the in-process server was taken meanwhile ({Message}); drawing new ports", e.Message);
            }
        }
    }

    private static async Task<LocalServer> StartOnceAsync(string dataDirectory, Serilog.ILogger logger, int grpcPort, int httpPort, int siloPort, IReadOnlyDictionary<string, string?>? settings, TimeProvider? time, CancellationToken cancellationToken)
    {
        var overrides = new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = dataDirectory,
            ["Server:ListenAddress"] = "127.0.0.1",
            ["Server:GrpcPort"] = grpcPort.ToString(CultureInfo.InvariantCulture),
            ["Server:HttpPort"] = httpPort.ToString(CultureInfo.InvariantCulture),
            ["Server:SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture),
            // One machine's own daemons, on loopback: no join token to hand out (each still gets its credential),
            // and as many first enrolments from this one address as a run or test makes.
            ["Server:Enrolment:Open"] = "true",
            ["Server:Enrolment:EnrolPerMinute"] = "0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            overrides[key] = value;
        var app = FederatedServerHost.Build([], overrides, logger, time);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return new LocalServer(app, dataDirectory, grpcPort, httpPort, siloPort);
    }

    public async Task StopAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await App.StopAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await App.DisposeAsync();
    }
}
