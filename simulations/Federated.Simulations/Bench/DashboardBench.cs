using System.Diagnostics;
using System.Globalization;
using Federated.Contracts.Clients;
using Federated.Protos.V1;
using Federated.Server.Clients;
using Federated.Server.Dashboard;
using Federated.Simulations.LocalRuns;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using static Federated.Simulations.Bench.BenchMeasure;

namespace Federated.Simulations.Bench;

/// <summary>
/// The dashboard at 10,000 enrolled clients on an in-process server: the time to build a clients page (all
/// clients, then a filtered one) and the overview from the client index, against one grain call per client (how
/// the table was built before the index) and against the same with 1 client; enrolment rate; and how long the
/// index takes to be rebuilt after a restart, while the server is already serving.
/// </summary>
public sealed class DashboardBench : IBenchSection
{
    public string Name => "dashboard";

    public string Description => "clients page and overview at 10,000 clients: client index vs a grain call per client, vs 1 client";

    public async Task RunAsync(bool quick, CancellationToken cancellationToken)
    {
        var clients = quick ? 1_000 : 10_000;
        var folder = Path.Combine(Path.GetTempPath(), $"federated-bench-dashboard-{Guid.NewGuid():N}");
        var settings = new Dictionary<string, string?>
        {
            ["Server:Dashboard:Enabled"] = "true",
            ["Server:Dashboard:Password"] = Guid.NewGuid().ToString("N"),
            ["Server:HeartbeatIntervalSeconds"] = "600", // every client stays live for the whole measurement
        };
        try
        {
            var table = new Table().AddColumns("Measurement", "1 client", $"{clients:N0} clients", $"Speed-up over a grain call per client, at {clients:N0}");
            double enrolSeconds, startSeconds, rebuildSeconds;
            await using (var server = await LocalServer.StartAsync(folder, Serilog.Core.Logger.None, settings: settings, cancellationToken: cancellationToken))
            {
                var grains = server.App.Services.GetRequiredService<IGrainFactory>();
                var index = server.App.Services.GetRequiredService<ClientIndex>();
                using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
                var spec = new JobSpec { JobId = "bench", BaseModel = "builtin:tiny", Rounds = 1, MinClientsPerRound = 1, ClientsPerRound = 2, LocalSteps = 1 };
                spec.Ranks.Add(2);
                await new Operator.OperatorClient(channel).CreateJobAsync(new CreateJobRequest { Spec = spec }, cancellationToken: cancellationToken);
                var feed = server.App.Services.GetRequiredService<DashboardFeed>();
                var jobs = await JobsAsync(feed, cancellationToken);

                await VirtualClients.EnrolAsync(grains, 1, cancellationToken: cancellationToken);
                var one = await MeasureAsync(grains, index, jobs);

                var clock = Stopwatch.StartNew();
                await VirtualClients.EnrolAsync(grains, clients, cancellationToken: cancellationToken);
                enrolSeconds = clock.Elapsed.TotalSeconds;
                var many = await MeasureAsync(grains, index, jobs);

                table.AddRow("Clients page 3 (50 rows) from the index, with the table's counts and per-job counts", Ms(one.Page), Ms(many.Page), Faster(many.PerGrain, many.Page));
                table.AddRow("Clients page filtered by text ('A100': 10 % match), from a built table", Ms(one.Filtered), Ms(many.Filtered), Faster(many.PerGrain, many.Filtered));
                table.AddRow("Overview (server-wide and per-job counts) from the index", Ms(one.Overview), Ms(many.Overview), Faster(many.PerGrain, many.Overview));
                table.AddRow("Before the index: a grain call per client (activations warm), sort, page", Ms(one.PerGrain), Ms(many.PerGrain), "1");
            }

            var restart = Stopwatch.StartNew();
            await using (var server = await LocalServer.StartAsync(folder, Serilog.Core.Logger.None, settings: settings, cancellationToken: cancellationToken))
            {
                startSeconds = restart.Elapsed.TotalSeconds;
                var index = server.App.Services.GetRequiredService<ClientIndex>();
                while ((index.Count < clients || index.Rebuilding) && restart.Elapsed < TimeSpan.FromMinutes(5))
                    await Task.Delay(20, cancellationToken);
                rebuildSeconds = restart.Elapsed.TotalSeconds;
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "Enrolling {0:N0} clients through their grains (500 at a time): {1:F1} s, {2:N0} clients/s", clients, enrolSeconds, clients / enrolSeconds);
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "Restart: serving after {0:F1} s; client index rebuilt from the persisted clients after {1:F1} s (in the background)", startSeconds, rebuildSeconds);
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<JobView[]> JobsAsync(DashboardFeed feed, CancellationToken cancellationToken)
    {
        long version = 0;
        while (true)
        {
            (var overview, version) = await feed.Overview.NextAsync(version, cancellationToken);
            if (overview.Jobs.Length > 0)
                return overview.Jobs;
        }
    }

    /// <summary>Best of five, in seconds, of each way to build what the pages show.</summary>
    private static async Task<Timings> MeasureAsync(IGrainFactory grains, ClientIndex index, JobView[] jobs)
    {
        var page = Best(() => DashboardViews.Page(DashboardViews.Table(index, jobs, DateTimeOffset.UtcNow), null, 2, 50), 5);
        var table = DashboardViews.Table(index, jobs, DateTimeOffset.UtcNow);
        var filtered = Best(() => DashboardViews.Page(table, VirtualClients.Accelerator, 0, 50), 5);
        var overview = Best(() => DashboardViews.Overview(DashboardViews.Table(index, jobs, DateTimeOffset.UtcNow), jobs), 5);
        var perGrain = double.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            await PerGrainPageAsync(grains);
            perGrain = Math.Min(perGrain, clock.Elapsed.TotalSeconds);
        }
        return new Timings(page, filtered, overview, perGrain);
    }

    /// <summary>The table as the dashboard built it before the client index: every client grain asked, 256 at a time.</summary>
    private static async Task<Server.Dashboard.ClientView[]> PerGrainPageAsync(IGrainFactory grains)
    {
        var ids = await grains.GetGrain<IClientDirectoryGrain>(0).ListClients();
        var snapshots = new List<ClientSnapshot>(ids.Length);
        foreach (var batch in ids.Chunk(256))
            snapshots.AddRange(await Task.WhenAll(batch.Select(id => grains.GetGrain<IClientGrain>(id).GetSnapshot())));
        return [.. snapshots.OrderBy(c => c.ClientId, StringComparer.Ordinal).Skip(100).Take(50).Select(c => DashboardViews.Client(c, live: true))];
    }

    private static string Faster(double perGrain, double seconds) => $"{perGrain / seconds:F0}×";

    private static string Ms(double seconds) => seconds < 0.001
        ? $"{seconds * 1e6:F1} µs"
        : $"{seconds * 1000:F2} ms";

    private sealed record Timings(double Page, double Filtered, double Overview, double PerGrain);
}
