using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Federated.Simulations.LocalRuns;

namespace Federated.Server.Tests.Cluster;

/// <summary>
/// A coordinator silo run as its own process (`dotnet Federated.Server.dll`, configured through environment
/// variables as a container would be), so that a test can SIGKILL it: no shutdown code runs, as when a machine dies.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private SiloProcess(string name, int grpcPort, int siloPort, int httpPort, Process process)
    {
        Name = name;
        GrpcAddress = $"http://127.0.0.1:{grpcPort}";
        SiloPort = siloPort;
        HttpPort = httpPort;
        _process = process;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }

    public string GrpcAddress { get; }

    /// <summary>The silo-to-silo port, which names the silo in the membership table.</summary>
    public int SiloPort { get; }

    public int HttpPort { get; }

    /// <summary>
    /// Starts a silo on fresh ports with <paramref name="settings"/> ("Server:…" keys, passed as Server__… variables:
    /// the server reads unprefixed environment variables, ASP.NET Core's default).
    /// </summary>
    public static SiloProcess Start(string name, string dataDirectory, IReadOnlyDictionary<string, string?> settings)
    {
        int grpc = FreePorts.Next(), http = FreePorts.Next(), silo = FreePorts.Next(), gateway = FreePorts.Next();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = dataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Federated.Server.dll"));
        var all = new Dictionary<string, string?>(settings)
        {
            ["Server:DataDirectory"] = dataDirectory,
            ["Server:ListenAddress"] = "127.0.0.1",
            ["Server:GrpcPort"] = grpc.ToString(CultureInfo.InvariantCulture),
            ["Server:HttpPort"] = http.ToString(CultureInfo.InvariantCulture),
            ["Server:SiloPort"] = silo.ToString(CultureInfo.InvariantCulture),
            ["Server:GatewayPort"] = gateway.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in all)
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        start.Environment["DOTNET_gcServer"] = "0"; // a small machine: keep the heap small
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{name}: dotnet did not start");
        return new SiloProcess(name, grpc, silo, http, process);
    }

    /// <summary>Returns once the silo answers /health; fails naming its last output if it exits first.</summary>
    public async Task WaitUntilServingAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
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
    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    /// <summary>The last lines of output, for a failing test's message.</summary>
    public string Tail(int count = 40) => $"--- {Name} ---\n" + string.Join('\n', _lines.TakeLast(count));

    private void Keep(string? line)
    {
        if (line is null)
            return;
        _lines.Enqueue(line);
        while (_lines.Count > 2000 && _lines.TryDequeue(out _))
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
