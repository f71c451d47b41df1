using System.Diagnostics;
using System.Globalization;
using Federated.Contracts.Aggregation;
using Federated.Core.Adapters;
using Federated.Server.Storage;
using Federated.Simulations.LocalRuns;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Spectre.Console;

namespace Federated.Simulations.Bench;

/// <summary>
/// One round's aggregation (64 uploads × rank 16 over the 1B shape, stacking) on a coordinator cluster of 1, 2
/// and 3 in-process silos sharing one PostgreSQL database, adapter bytes in it: the uploads are stored once, and
/// each cluster size aggregates them through the aggregator grain, whose shard grains Orleans places on any
/// silo. Silos in one process on one machine share its cores, so this shows what a cluster costs (remote shards
/// copy their inputs out of the database), not the speed-up separate machines would give.
/// </summary>
public sealed class ClusterBench : IBenchSection
{
    /// <summary>A connection string whose user may create databases; without it a private server is started.</summary>
    public const string PostgresVariable = "FEDERATED_BENCH_POSTGRES";

    private const int Clients = 64, Rank = 16, Shards = 6;

    public string Name => "cluster";

    public string Description => "one round's aggregation (64 × rank 16, 1B shape) with 1, 2 and 3 silos on PostgreSQL";

    public async Task RunAsync(bool quick, CancellationToken cancellationToken)
    {
        await using var postgres = BenchPostgres.Find();
        if (postgres.Problem is { } problem)
        {
            AnsiConsole.MarkupLine($"[yellow]cluster: skipped: {Markup.Escape(problem)}[/]");
            return;
        }
        var layers = quick ? 1 : BenchShapes.Layers;
        var folder = Directory.CreateTempSubdirectory("federated-bench-cluster-").FullName;
        var logger = Serilog.Core.Logger.None;
        try
        {
            var database = await postgres.CreateDatabaseAsync(cancellationToken);
            AggregationInput[] inputs;
            long uploaded;
            await using (var first = await StartSiloAsync(folder, 0, database, logger, cancellationToken))
                (inputs, uploaded) = await StoreUploadsAsync(first, layers, cancellationToken);

            var table = new Table().AddColumns("Silos", "Aggregation time", "Time ÷ 1 silo");
            double? single = null;
            for (int silos = 1; silos <= 3; silos++)
            {
                var cluster = new List<LocalServer>();
                try
                {
                    for (int i = 0; i < silos; i++)
                        cluster.Add(await StartSiloAsync(folder, i, database, logger, cancellationToken));
                    var grains = cluster[0].App.Services.GetRequiredService<IGrainFactory>();
                    if (silos == 1) // warm-up, untimed: code paths compiled, connection pools opened
                        await grains.GetGrain<IAggregatorGrain>("bench-warm-up").Aggregate(1, "stacking", inputs[..2], [Rank], 1.0);
                    var clock = Stopwatch.StartNew();
                    await grains.GetGrain<IAggregatorGrain>($"bench-{silos}").Aggregate(1, "stacking", inputs, [Rank], 1.0);
                    var seconds = clock.Elapsed.TotalSeconds;
                    single ??= seconds;
                    table.AddRow(silos.ToString(CultureInfo.InvariantCulture), $"{seconds:F1} s",
                        (seconds / single.Value).ToString("F2", CultureInfo.InvariantCulture));
                }
                finally
                {
                    foreach (var silo in cluster)
                        await silo.DisposeAsync();
                }
            }
            AnsiConsole.MarkupLine($"{Clients} uploads × rank {Rank}, {layers} of {BenchShapes.Layers} layers of a 1B Llama (all 7 linear), {BenchShapes.Bytes(uploaded)} in PostgreSQL, {Shards} shards run at once.");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"All silos run in this process on this machine's {Environment.ProcessorCount} cores, so these times are not the speed-up of separate machines: "
                + "they show that spreading the shards works and what it costs (each remote shard copies its inputs out of the database), within one run's noise (the sizes run in turn, 1 first).");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static Task<LocalServer> StartSiloAsync(string folder, int index, string database, Serilog.ILogger logger, CancellationToken cancellationToken)
        => LocalServer.StartAsync(Path.Combine(folder, $"silo-{index + 1}"), logger, settings: new Dictionary<string, string?>
        {
            ["Server:Cluster:Mode"] = "Postgres",
            ["Server:Cluster:ConnectionString"] = database,
            ["Server:Cluster:AdvertisedAddress"] = "127.0.0.1",
            ["Server:GatewayPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
            ["Server:AggregationShards"] = Shards.ToString(CultureInfo.InvariantCulture),
            ["Server:AggregationParallelism"] = Shards.ToString(CultureInfo.InvariantCulture),
        }, cancellationToken: cancellationToken);

    private static async Task<(AggregationInput[] Inputs, long Bytes)> StoreUploadsAsync(LocalServer silo, int layers, CancellationToken cancellationToken)
    {
        var store = silo.App.Services.GetRequiredService<AdapterStore>();
        var modules = Enumerable.Range(0, layers).SelectMany(BenchShapes.Layer).ToList();
        var random = new Random(4);
        var inputs = new AggregationInput[Clients];
        long bytes = 0;
        await AnsiConsole.Progress().StartAsync(async progress =>
        {
            var storing = progress.AddTask("storing the uploads in PostgreSQL", maxValue: Clients);
            for (int k = 0; k < Clients; k++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var adapter = BenchShapes.RandomAdapter(modules, Rank, 2.0, random);
                var (sha256, size) = await store.WriteAsync(stream => AdapterSerializer.WriteAsync(stream, adapter));
                inputs[k] = new AggregationInput($"client-{k}", sha256, 100 + k);
                bytes += size;
                storing.Increment(1);
            }
        });
        return (inputs, bytes);
    }
}

/// <summary>The bench's PostgreSQL server: the one $FEDERATED_BENCH_POSTGRES names, else a private one (tests/scripts/postgres.sh).</summary>
internal sealed class BenchPostgres : IAsyncDisposable
{
    private readonly string? _script;
    private readonly string? _folder;

    private BenchPostgres(string? admin, string? problem, string? script = null, string? folder = null)
    {
        Admin = admin;
        Problem = problem;
        _script = script;
        _folder = folder;
    }

    public string? Admin { get; }

    /// <summary>Why there is no server (one line), or null.</summary>
    public string? Problem { get; }

    public static BenchPostgres Find()
    {
        if (Environment.GetEnvironmentVariable(ClusterBench.PostgresVariable) is { Length: > 0 } given)
            return new BenchPostgres(given, null);
        var script = Ancestors(Environment.CurrentDirectory).Concat(Ancestors(AppContext.BaseDirectory))
            .Select(d => Path.Combine(d, "tests", "scripts", "postgres.sh")).FirstOrDefault(File.Exists);
        if (script is null)
            return new BenchPostgres(null, $"no PostgreSQL: set {ClusterBench.PostgresVariable} to a connection string whose user may create databases, or run from the repository (tests/scripts/postgres.sh starts a private server)");
        var folder = Path.Combine(Path.GetTempPath(), $"federated-bench-postgres-{Environment.ProcessId}");
        var port = FreePorts.Next();
        var (ok, error) = Run(script, $"start \"{folder}\" {port}");
        return ok
            ? new BenchPostgres(new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Username = "postgres", Database = "postgres" }.ConnectionString, null, script, folder)
            : new BenchPostgres(null, $"tests/scripts/postgres.sh could not start PostgreSQL: {error}");
    }

    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken)
    {
        var name = $"bench_cluster_{Guid.NewGuid():N}"[..30];
        await using (var connection = new NpgsqlConnection(Admin))
        {
            await connection.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        return new NpgsqlConnectionStringBuilder(Admin) { Database = name }.ConnectionString;
    }

    public ValueTask DisposeAsync()
    {
        if (_script is not null && _folder is not null)
        {
            Run(_script, $"stop \"{_folder}\"");
            try
            {
                Directory.Delete(_folder, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // left in the temp folder: the server owned it as another user
            }
        }
        return ValueTask.CompletedTask;
    }

    private static IEnumerable<string> Ancestors(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            yield return directory.FullName;
    }

    private static (bool Ok, string Error) Run(string script, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", $"\"{script}\" {arguments}") { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode == 0, error.Trim());
    }
}
