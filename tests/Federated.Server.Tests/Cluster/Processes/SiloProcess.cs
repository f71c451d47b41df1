using System.Globalization;
using Federated.Simulations.LocalRuns;

namespace Federated.Server.Tests.Cluster.Processes;

/// <summary>A coordinator silo's fixed ports: a silo started again on them is the same member of the cluster.</summary>
public sealed record SiloPorts(string Name, int Grpc, int Http, int Silo, int Gateway)
{
    public string GrpcAddress => $"http://127.0.0.1:{Grpc}";

    public static SiloPorts Fresh(string name) => new(name, FreePorts.Next(), FreePorts.Next(), FreePorts.Next(), FreePorts.Next());
}

/// <summary>
/// A coordinator silo run as its own process (the server's build output, configured through environment
/// variables as a container would be), so that a test can SIGKILL it: no shutdown code runs, as when a machine dies.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private SiloProcess(SiloPorts ports, ChildProcess process)
    {
        Ports = ports;
        _process = process;
    }

    public SiloPorts Ports { get; }

    public string Name => Ports.Name;

    public string GrpcAddress => Ports.GrpcAddress;

    /// <summary>The silo-to-silo port, which names the silo in the membership table.</summary>
    public int SiloPort => Ports.Silo;

    public int HttpPort => Ports.Http;

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts a silo on <paramref name="ports"/> (fresh ones when null) with <paramref name="settings"/> ("Server:…"
    /// keys, passed as Server__… variables: the server reads unprefixed environment variables, ASP.NET Core's default).
    /// </summary>
    public static SiloProcess Start(string name, string dataDirectory, IReadOnlyDictionary<string, string?> settings, SiloPorts? ports = null)
    {
        ports ??= SiloPorts.Fresh(name);
        Directory.CreateDirectory(dataDirectory);
        var all = new Dictionary<string, string?>(settings)
        {
            ["Server:DataDirectory"] = dataDirectory,
            ["Server:ListenAddress"] = "127.0.0.1",
            ["Server:GrpcPort"] = ports.Grpc.ToString(CultureInfo.InvariantCulture),
            ["Server:HttpPort"] = ports.Http.ToString(CultureInfo.InvariantCulture),
            ["Server:SiloPort"] = ports.Silo.ToString(CultureInfo.InvariantCulture),
            ["Server:GatewayPort"] = ports.Gateway.ToString(CultureInfo.InvariantCulture),
            ["Server:Enrolment:Open"] = "true", // as LocalServer: the test's own clients, each with its credential
            ["Server:Enrolment:EnrolPerMinute"] = "0",
        };
        var environment = all.ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);
        return new SiloProcess(ports, ChildProcess.Start(name, "server/Federated.Server", [], dataDirectory, environment));
    }

    /// <summary>Returns once the silo answers /health; fails naming its last output if it exits first.</summary>
    public async Task WaitUntilServingAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        // A separate process on the real clock: no fake clock reaches it, so its start is polled.
        using var recheck = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        do
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"{Name} exited at start:\n{Tail()}");
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{HttpPort}/health", cancellationToken)).IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // starting slowly
            }
        }
        while (await recheck.WaitForNextTickAsync(cancellationToken));
    }

    /// <summary>SIGKILL.</summary>
    public void Kill() => _process.Kill();

    /// <summary>The last lines of output, for a failing test's message.</summary>
    public string Tail(int count = 40) => _process.Tail(count);

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
