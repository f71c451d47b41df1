using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using Federated.Client.Transport;
using Federated.Protos.V1;
using Federated.Simulations.LocalRuns;
using Grpc.Core;
using Grpc.Net.Client;
using Spectre.Console;

namespace Federated.Simulations.Bench;

/// <summary>
/// A real coordinator process under N fake daemons (<see cref="FakeDaemon"/>) in this one: per-RPC latency and
/// failures, and the server's CPU time and resident memory read from /proc, for a bounded time.
/// </summary>
public sealed class LoadBench : IBenchSection
{
    public string Name => "load";

    public string Description => "a coordinator process under N fake daemons (--daemons, --seconds): RPC latency, server CPU and memory";

    /// <summary>Set by `federated bench` from its options.</summary>
    public LoadSettings Settings { get; set; } = new();

    public async Task RunAsync(bool quick, CancellationToken cancellationToken)
    {
        var settings = quick ? Settings with { Daemons = Math.Min(Settings.Daemons, 100), Seconds = Math.Min(Settings.Seconds, 15) } : Settings;
        AnsiConsole.MarkupLine($"{settings.Daemons} daemons for {settings.Seconds} s against a coordinator process; {settings.DaemonsPerChannel} daemons share a channel; tasks take {settings.TrainSeconds.ToString(CultureInfo.InvariantCulture)} s to \"train\".");
        var report = await MeasureAsync(settings, p => AnsiConsole.MarkupLine(
            $"[grey]{p.Elapsed:F0} s: {p.Enrolled} enrolled, {p.Calls} calls, {p.Errors} errors; server {p.ServerCores:F2} cores, {BenchShapes.Bytes(p.ServerResidentBytes)} resident[/]"), cancellationToken);
        var table = new Table().AddColumns("RPC", "Calls", "Errors", "p50", "p99", "Max");
        foreach (var rpc in report.Rpcs)
        {
            var errors = rpc.Errors == 0 ? "0" : $"[red]{rpc.Errors}[/] ({Markup.Escape(string.Join(", ", rpc.ErrorsByStatus.Select(e => $"{e.Key} {e.Value}")))})";
            table.AddRow(rpc.Rpc, rpc.Calls.ToString(CultureInfo.InvariantCulture), errors, Ms(rpc.P50Ms), Ms(rpc.P99Ms), Ms(rpc.MaxMs));
        }
        AnsiConsole.Write(table);
        var cores = report.ServerCpuSeconds / report.WallSeconds;
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"Server: {report.ServerCpuSeconds:F1} CPU s in {report.WallSeconds:F1} s = {cores:F2} cores ({100 * cores / Environment.ProcessorCount:F0}% of {Environment.ProcessorCount}); peak resident {BenchShapes.Bytes(report.ServerPeakResidentBytes)}, at the end {BenchShapes.Bytes(report.ServerResidentBytes)}."));
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"This process (the daemons): {report.BenchCpuSeconds:F1} CPU s; both share this machine's cores, so the latencies include waiting for them."));
        foreach (var (error, count) in report.ServerErrors.Take(10))
            AnsiConsole.MarkupLine($"[red]Server error ×{count}:[/] {Markup.Escape(error)}");
    }

    /// <summary>Starts the coordinator, creates a job, runs the daemons for the settings' time and returns the figures.</summary>
    public static async Task<LoadReport> MeasureAsync(LoadSettings settings, Action<LoadProgress>? progress, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("the load bench reads the coordinator's CPU and memory from /proc: Linux only");
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Daemons, 1, "--daemons");
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Seconds, 1, "--seconds");
        var serverSettings = new Dictionary<string, string>();
        if (settings.HeartbeatIntervalSeconds is { } heartbeat)
            serverSettings["Server:HeartbeatIntervalSeconds"] = heartbeat.ToString(CultureInfo.InvariantCulture);
        await using var server = await CoordinatorProcess.StartAsync(settings.ServerPath, serverSettings, cancellationToken);

        var channels = Enumerable.Range(0, (settings.Daemons + settings.DaemonsPerChannel - 1) / settings.DaemonsPerChannel)
            .Select(_ => GrpcChannel.ForAddress(server.GrpcAddress, new GrpcChannelOptions
            {
                // A channel is one HTTP/2 connection; Kestrel allows 100 streams on one, and each daemon keeps a
                // poll open: let the handler open more connections when the streams run out rather than queue.
                HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
                MaxReceiveMessageSize = 64 << 20,
            })).ToList();
        try
        {
            await CreateJob(new Operator.OperatorClient(channels[0]), cancellationToken);
            var recorder = new RpcRecorder();
            var credentials = new CredentialKeeper(); // each fake daemon's own credential, as a real one keeps it
            var daemons = Enumerable.Range(0, settings.Daemons)
                .Select(i => new FakeDaemon($"load-{i:D5}", CredentialKeeper.Client(channels[i / settings.DaemonsPerChannel], credentials), settings, recorder))
                .ToList();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var before = server.Read();
            var benchBefore = ProcessCounters.Read();
            var clock = Stopwatch.StartNew();
            // Starts spread over the first seconds, as daemons coming online do, rather than one burst.
            var ramp = TimeSpan.FromSeconds(Math.Min(5, settings.Seconds / 4.0));
            var running = daemons.Select((d, i) => Task.Run(async () =>
            {
                await Task.Delay(ramp * i / daemons.Count, stop.Token);
                await d.RunAsync(stop.Token);
            }, stop.Token)).ToList();

            var interval = TimeSpan.FromSeconds(settings.Seconds >= 30 ? 5 : 1);
            var last = (Time: 0.0, Cpu: before.CpuSeconds);
            var end = TimeSpan.FromSeconds(settings.Seconds);
            while (end - clock.Elapsed > TimeSpan.FromMilliseconds(100))
            {
                var left = end - clock.Elapsed;
                await Task.Delay(left < interval ? left : interval, cancellationToken);
                var now = server.Read();
                var elapsed = clock.Elapsed.TotalSeconds;
                progress?.Invoke(new LoadProgress(elapsed, daemons.Count(d => d.Enrolled), RpcRecorder.Rpcs.Sum(recorder.Calls), recorder.Errors(),
                    (now.CpuSeconds - last.Cpu) / (elapsed - last.Time), now.ResidentBytes));
                last = (elapsed, now.CpuSeconds);
            }
            var after = server.Read();
            var wall = clock.Elapsed.TotalSeconds;
            var bench = ProcessCounters.Read() - benchBefore;
            await stop.CancelAsync();
            try
            {
                await Task.WhenAll(running);
            }
            catch (OperationCanceledException)
            {
                // a daemon still waiting for its start when the run ended
            }
            return new LoadReport(
                RpcRecorder.Rpcs.Select(recorder.Summary).ToList(),
                wall, after.CpuSeconds - before.CpuSeconds, after.PeakResidentBytes, after.ResidentBytes, bench.UserSeconds + bench.KernelSeconds)
            {
                ServerErrors = server.Errors(),
            };
        }
        finally
        {
            foreach (var channel in channels)
                channel.Dispose();
        }
    }

    /// <summary>A job that never runs out of work in the bench's time: fedasync, a tiny built-in model, many rounds.</summary>
    private static async Task CreateJob(Operator.OperatorClient operatorClient, CancellationToken cancellationToken)
    {
        var spec = new JobSpec
        {
            JobId = "load",
            BaseModel = "builtin:tiny",
            Rounds = 100_000,
            LocalSteps = 1,
            TaskTimeoutSeconds = 600,
            Scheduler = new SchedulerSpec { Policy = "fedasync" },
        };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        await operatorClient.CreateJobAsync(new CreateJobRequest { Spec = spec }, cancellationToken: cancellationToken);
    }

    private static string Ms(double ms) => double.IsNaN(ms) ? "–" : ms.ToString(ms < 10 ? "F1" : "F0", CultureInfo.InvariantCulture) + " ms";
}

/// <summary>A progress line: the server's cores are its CPU time per second since the previous line.</summary>
public sealed record LoadProgress(double Elapsed, int Enrolled, int Calls, int Errors, double ServerCores, long ServerResidentBytes);

/// <summary>The load bench's figures; server CPU is over the daemons' run only, memory over the server's life.</summary>
public sealed record LoadReport(
    IReadOnlyList<RpcSummary> Rpcs, double WallSeconds, double ServerCpuSeconds, long ServerPeakResidentBytes, long ServerResidentBytes, double BenchCpuSeconds)
{
    /// <summary>What the coordinator logged as errors, most frequent first (its log is otherwise not kept).</summary>
    public IReadOnlyList<(string Error, int Count)> ServerErrors { get; init; } = [];

    public RpcSummary this[string rpc] => Rpcs.Single(r => r.Rpc == rpc);
}

/// <summary>
/// The coordinator as a child process on free loopback ports with its own temporary data directory, so that its
/// CPU time and memory are its own and can be read from /proc/&lt;pid&gt;.
/// </summary>
public sealed class CoordinatorProcess : IAsyncDisposable
{
    private const double ClockTicksPerSecond = 100; // USER_HZ, 100 on every Linux this runs on
    private readonly Process _process;
    private readonly string _dataDirectory;
    private readonly Queue<string> _lastLines = new();

    private CoordinatorProcess(Process process, string dataDirectory, int grpcPort)
    {
        _process = process;
        _dataDirectory = dataDirectory;
        GrpcAddress = $"http://127.0.0.1:{grpcPort}";
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine(); // drained, or a full pipe would stall the server's logging
        process.BeginErrorReadLine();
    }

    public string GrpcAddress { get; }

    public static async Task<CoordinatorProcess> StartAsync(string? serverPath, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        var path = Path.GetFullPath(serverPath ?? DefaultServerPath());
        if (!File.Exists(path))
            throw new FileNotFoundException($"the coordinator to start was not found at {path} (give --server the path of Federated.Server.dll)", path);
        for (int attempt = 1; ; attempt++)
        {
            var data = Directory.CreateTempSubdirectory("federated-load-bench").FullName;
            var (grpc, http, silo) = (FreePorts.Next(), FreePorts.Next(), FreePorts.Next());
            var start = path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
                ? new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { ArgumentList = { path } }
                : new ProcessStartInfo(path);
            start.WorkingDirectory = Path.GetDirectoryName(path)!; // where its appsettings.json is
            start.RedirectStandardOutput = start.RedirectStandardError = true;
            var arguments = new Dictionary<string, string>
            {
                ["Server:DataDirectory"] = data,
                ["Server:ListenAddress"] = "127.0.0.1",
                ["Server:GrpcPort"] = grpc.ToString(CultureInfo.InvariantCulture),
                ["Server:HttpPort"] = http.ToString(CultureInfo.InvariantCulture),
                ["Server:SiloPort"] = silo.ToString(CultureInfo.InvariantCulture),
                // Thousands of first enrolments from one address in seconds: no join tokens, no limit on enrolling.
                ["Server:Enrolment:Open"] = "true",
                ["Server:Enrolment:EnrolPerMinute"] = "0",
            };
            foreach (var (key, value) in settings)
                arguments[key] = value;
            foreach (var (key, value) in arguments)
                start.ArgumentList.Add($"--{key}={value}");
            var server = new CoordinatorProcess(Process.Start(start) ?? throw new InvalidOperationException($"could not start {path}"), data, grpc);
            try
            {
                await server.WaitUntilServing(cancellationToken);
                return server;
            }
            catch (InvalidOperationException) when (attempt < 3 && server.Said("address already in use"))
            {
                await server.DisposeAsync(); // a drawn port was taken meanwhile: draw again
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>CPU time (user + kernel) and memory of the process now, from /proc/&lt;pid&gt;/stat and status.</summary>
    public (double CpuSeconds, long ResidentBytes, long PeakResidentBytes) Read()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // comm may hold spaces; utime, stime are fields 14, 15
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        long Kilobytes(string line) => 1024 * long.Parse(line.Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        var status = File.ReadAllLines($"/proc/{_process.Id}/status");
        return (ticks / ClockTicksPerSecond, Kilobytes(status.Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))),
            Kilobytes(status.Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // left in the temporary folder: not worth failing the bench for
        }
    }

    private static string DefaultServerPath()
    {
        var apphost = Path.Combine(AppContext.BaseDirectory, "Federated.Server");
        return File.Exists(apphost) ? apphost : Path.Combine(AppContext.BaseDirectory, "Federated.Server.dll");
    }

    private async Task WaitUntilServing(CancellationToken cancellationToken)
    {
        using var channel = GrpcChannel.ForAddress(GrpcAddress);
        var operatorClient = new Operator.OperatorClient(channel);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"the coordinator exited with {_process.ExitCode} before serving: {LastLines()}");
            try
            {
                await operatorClient.ListJobsAsync(new ListJobsRequest(), deadline: CallDeadline.After(TimeSpan.FromSeconds(2)), cancellationToken: cancellationToken);
                return;
            }
            catch (RpcException) when (clock.Elapsed < TimeSpan.FromSeconds(120))
            {
                await Task.Delay(200, cancellationToken);
            }
        }
    }

    private readonly Dictionary<string, int> _errors = new(StringComparer.Ordinal);
    private string? _errorPending;

    /// <summary>The coordinator's error events (message and the first line of their exception), each with how often it was logged.</summary>
    public IReadOnlyList<(string Error, int Count)> Errors()
    {
        lock (_lastLines)
            return [.. _errors.OrderByDescending(e => e.Value).Select(e => (e.Key, e.Value))];
    }

    private void Keep(string? line)
    {
        if (line is null)
            return;
        lock (_lastLines)
        {
            _lastLines.Enqueue(line);
            if (_lastLines.Count > 20)
                _lastLines.Dequeue();
            // Console lines are "[HH:mm:ss LVL] Source: message", an exception's lines following its event's.
            var isEvent = line.Length > 14 && line[0] == '[' && line[9] == ' ' && line[13] == ']';
            if (_errorPending is { } pending)
            {
                CountError(isEvent ? pending : pending + " | " + line.Trim());
                _errorPending = null;
            }
            if (isEvent && line.AsSpan(10, 3) is "ERR" or "FTL")
                _errorPending = line[15..];
        }
    }

    private void CountError(string error)
    {
        if (_errors.Count < 50 || _errors.ContainsKey(error))
            _errors[error] = _errors.GetValueOrDefault(error) + 1;
    }

    private bool Said(string text)
    {
        lock (_lastLines)
            return _lastLines.Any(l => l.Contains(text, StringComparison.OrdinalIgnoreCase));
    }

    private string LastLines()
    {
        lock (_lastLines)
            return string.Join(Environment.NewLine, _lastLines);
    }
}
