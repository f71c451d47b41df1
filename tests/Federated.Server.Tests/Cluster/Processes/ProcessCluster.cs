using System.Globalization;
using System.Text.Json;
using Federated.Protos.V1;
using Federated.Server.Cluster;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Cluster.Processes;

/// <summary>
/// Coordinator silos and client daemons as separate processes on one PostgreSQL database (each silo with a data
/// folder of its own), plus an Orleans client the test asks where grains live.
/// </summary>
public sealed class ProcessCluster(ITestOutputHelper output, string folder, string database) : IAsyncDisposable
{
    private readonly Dictionary<string, SiloProcess> _silos = new(StringComparer.Ordinal);
    private readonly List<ChildProcess> _daemons = [];
    private readonly List<SiloPorts> _ports = [];
    private IHost? _orleansClient;

    public IReadOnlyList<SiloPorts> Silos => _ports;

    public string Addresses(int rotate = 0)
        => string.Join(',', Enumerable.Range(0, _ports.Count).Select(i => _ports[(i + rotate) % _ports.Count].GrpcAddress));

    /// <summary>Each silo's own data folder: everything shared is in the database (adapter bytes too).</summary>
    public string DataDirectoryOf(SiloPorts silo) => Path.Combine(folder, silo.Name + "-data");

    /// <summary>Starts <paramref name="count"/> silos (or restarts killed ones on their old ports) and waits until each answers.</summary>
    public async Task StartSilosAsync(int count, CancellationToken cancellationToken)
    {
        while (_ports.Count < count)
            _ports.Add(SiloPorts.Fresh($"silo-{_ports.Count + 1}"));
        foreach (var silo in _ports.Take(count))
            if (!_silos.TryGetValue(silo.Name, out var running) || running.HasExited)
                _silos[silo.Name] = SiloProcess.Start(silo.Name, DataDirectoryOf(silo), SiloSettings, silo);
        foreach (var silo in _ports.Take(count))
            await _silos[silo.Name].WaitUntilServingAsync(cancellationToken);
    }

    public void StartDaemon(string clientId, string dataPath, int rotate)
        => _daemons.Add(ChildProcess.Start(clientId, "client/Federated.Client",
        [
            $"--Client:ServerAddress={Addresses(rotate)}",
            $"--Client:ClientId={clientId}",
            $"--Client:DataPath={dataPath}",
            $"--Client:WorkDirectory={Path.Combine(folder, clientId + "-work")}",
            "--Client:PollWaitSeconds=5",
            "--Client:ReconnectMinSeconds=0.2",
            "--Client:ReconnectMaxSeconds=2",
            "--Client:Threads=1",
        ], folder));

    public void Kill(SiloPorts silo) => _silos[silo.Name].Kill();

    public void KillAllSilos()
    {
        foreach (var silo in _silos.Values)
            silo.Kill();
    }

    /// <summary>The silo that holds the grain's activation now, asked of the cluster's management grain.</summary>
    public async Task<SiloPorts?> HostOfAsync(string grainType, string key)
    {
        var management = (await OrleansClientAsync()).Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        var activations = await management.GetDetailedGrainStatistics();
        var found = activations.FirstOrDefault(a => a.GrainId.Type.ToString() == grainType && a.GrainId.Key.ToString() == key);
        return found is null ? null : _ports.FirstOrDefault(p => p.Silo == found.SiloAddress.Endpoint.Port);
    }

    /// <summary>The job's status through the first silo in <paramref name="through"/> that answers.</summary>
    public async Task<JobStatus> GetJobAsync(string jobId, IEnumerable<SiloPorts> through)
    {
        Exception? last = null;
        foreach (var silo in through)
        {
            try
            {
                using var channel = GrpcChannel.ForAddress(silo.GrpcAddress);
                return await new Operator.OperatorClient(channel).GetJobAsync(new GetJobRequest { JobId = jobId }, deadline: DateTime.UtcNow.AddSeconds(10));
            }
            catch (Grpc.Core.RpcException e)
            {
                last = e;
            }
        }
        throw new InvalidOperationException($"no silo answered for job '{jobId}'", last);
    }

    /// <summary>
    /// The clients page of every silo in <paramref name="silos"/>, once each lists <paramref name="clients"/> clients
    /// and all show the same ids and counts (each through its own sign-in); fails after 30 s naming what differed.
    /// </summary>
    public async Task<JsonElement[]> SameClientsOnEveryDashboardAsync(IReadOnlyList<SiloPorts> silos, int clients)
    {
        var sessions = silos.Select(_ => new OperatorHttp()).ToList();
        try
        {
            var addresses = silos.Select(s => $"http://127.0.0.1:{s.Http}").ToList();
            for (var i = 0; i < silos.Count; i++)
                Assert.Equal(System.Net.HttpStatusCode.OK, await sessions[i].SignIn(addresses[i], Operator, OperatorPassword));
            var pages = new JsonElement[silos.Count];
            for (var i = 0; i < silos.Count; i++)
                pages[i] = await sessions[i].Until(addresses[i], "/dashboard/api/clients?size=500", p => OperatorHttp.Counts(p).Total == clients, TimeSpan.FromSeconds(30));
            // Liveness and activity change between the reads (a job finishing moves clients from active to idle): the
            // pages agree once read within the same refresh, so the first page is read again until they do.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (true)
            {
                try
                {
                    for (var i = 1; i < silos.Count; i++)
                    {
                        var first = pages[0];
                        pages[i] = await sessions[i].Until(addresses[i], "/dashboard/api/clients?size=500",
                            p => OperatorHttp.Ids(p).SequenceEqual(OperatorHttp.Ids(first)) && OperatorHttp.Counts(p) == OperatorHttp.Counts(first), TimeSpan.FromSeconds(10));
                    }
                    return pages;
                }
                catch (Xunit.Sdk.XunitException) when (DateTime.UtcNow < deadline)
                {
                    pages[0] = await sessions[0].Until(addresses[0], "/dashboard/api/clients?size=500", p => OperatorHttp.Counts(p).Total == clients, TimeSpan.FromSeconds(30));
                }
            }
        }
        finally
        {
            foreach (var session in sessions)
                session.Dispose();
        }
    }

    /// <summary>Every process's last lines, for a failing test's message.</summary>
    public string Tails() => string.Join('\n', _silos.Values.Select(s => s.Tail()).Concat(_daemons.Select(d => d.Tail())));

    public IEnumerable<ChildProcess> Daemons => _daemons;

    /// <summary>The dashboard's one operator on every silo.</summary>
    public const string Operator = "alice", OperatorPassword = "correct horse battery staple";

    private Dictionary<string, string?> SiloSettings => new()
    {
        ["Server:Dashboard:Enabled"] = "true",
        [$"Server:Dashboard:Users:{Operator}"] = OperatorPassword,
        ["Server:Dashboard:ClientRefreshSeconds"] = "1",
        ["Server:SchedulerTickSeconds"] = "1",
        ["Server:Cluster:Mode"] = "Postgres",
        ["Server:Cluster:ConnectionString"] = database,
        ["Server:Cluster:AdvertisedAddress"] = "127.0.0.1",
    };

    private async Task<IHost> OrleansClientAsync()
    {
        if (_orleansClient is not null)
            return _orleansClient;
        var host = new HostBuilder()
            .UseOrleansClient(client =>
            {
                client.Configure<ClusterOptions>(o => { o.ClusterId = "federated"; o.ServiceId = "federated"; });
                client.UseAdoNetClustering(o => { o.Invariant = ClusterHosting.Invariant; o.ConnectionString = database; });
            })
            .Build();
        await host.StartAsync();
        return _orleansClient = host;
    }

    public async ValueTask DisposeAsync()
    {
        if (_orleansClient is not null)
        {
            try
            {
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _orleansClient.StopAsync(stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
            _orleansClient.Dispose();
        }
        foreach (var daemon in _daemons)
            await daemon.DisposeAsync();
        foreach (var silo in _silos.Values)
            await silo.DisposeAsync();
        output.WriteLine($"cluster of {_ports.Count} silos and {_daemons.Count} daemons stopped");
    }
}
