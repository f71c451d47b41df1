using System.Security.Cryptography;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Federated.Simulations.LocalRuns;
using Grpc.Core;
using Grpc.Net.Client;
using Npgsql;
using Xunit.Abstractions;

namespace Federated.Server.Tests.Cluster;

/// <summary>Two silos on one PostgreSQL database form one cluster: what one is told, the other answers.</summary>
public class TwoSiloTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_job_created_on_one_silo_is_trained_through_the_other()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var database = await PostgresServer.CreateDatabaseAsync("two-silos");
        // One data folder for both, standing in for the mount all silos share, with the files adapter store on it
        // (each silo's uploads in flight under its own name).
        await using var a = await StartSiloAsync(folder["shared"], database, logger, adapterStore: "Files");
        await using var b = await StartSiloAsync(folder["shared"], database, logger, adapterStore: "Files");

        using var toA = GrpcChannel.ForAddress(a.GrpcAddress);
        using var toB = GrpcChannel.ForAddress(b.GrpcAddress);
        var spec = new JobSpec { JobId = "shared", BaseModel = "builtin:tiny", Rounds = 2, LocalSteps = 1, MinClientsPerRound = 1 };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        await new Operator.OperatorClient(toA).CreateJobAsync(new CreateJobRequest { Spec = spec });

        var coordinator = TestClients.Coordinator(toB);
        var task = await coordinator.EnrolAndTakeTask("edge-1", waitSeconds: 10);
        Assert.Equal("shared", task.JobId);
        var accepted = await coordinator.UploadRandomUpdate(task, "edge-1");
        Assert.False(string.IsNullOrEmpty(accepted.Sha256), accepted.Message);

        var operatorOnA = new Operator.OperatorClient(toA);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        JobStatus status;
        do
        {
            status = await operatorOnA.GetJobAsync(new GetJobRequest { JobId = "shared" });
            if (status.CompletedRounds >= 1)
                break;
            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        Assert.True(status.CompletedRounds >= 1, $"silo A sees {status.CompletedRounds} rounds after silo B's client sent its update");
        Assert.True(File.Exists(Path.Combine(folder["shared"], "adapters", "sha256", accepted.Sha256[..2], accepted.Sha256 + ".safetensors")));
    }

    [Fact]
    public async Task Silos_with_their_own_data_folders_share_adapters_through_the_database()
    {
        using var folder = new TemporaryDirectory();
        await using var logger = TestLogging.For(output);
        var database = await PostgresServer.CreateDatabaseAsync("two-silos-blobs");
        // Server:Cluster:AdapterStore left unset: Postgres mode keeps adapters in the database.
        await using var a = await StartSiloAsync(folder["a"], database, logger);
        await using var b = await StartSiloAsync(folder["b"], database, logger);

        using var toA = GrpcChannel.ForAddress(a.GrpcAddress);
        using var toB = GrpcChannel.ForAddress(b.GrpcAddress);
        var spec = new JobSpec { JobId = "apart", BaseModel = "builtin:tiny", Rounds = 1, LocalSteps = 1, MinClientsPerRound = 1 };
        spec.TargetModules.Add("q_proj");
        spec.Ranks.Add(2);
        var operatorOnA = new Operator.OperatorClient(toA);
        await operatorOnA.CreateJobAsync(new CreateJobRequest { Spec = spec });

        var coordinator = TestClients.Coordinator(toB);
        var task = await coordinator.EnrolAndTakeTask("edge-1", waitSeconds: 10);
        Assert.Equal("apart", task.JobId);
        var accepted = await coordinator.UploadRandomUpdate(task, "edge-1");
        Assert.False(string.IsNullOrEmpty(accepted.Sha256), accepted.Message);

        var status = new JobStatus();
        using (var watch = operatorOnA.WatchJob(new WatchJobRequest { JobId = "apart" }, deadline: DateTime.UtcNow.AddSeconds(60)))
        {
            try
            {
                await foreach (var change in watch.ResponseStream.ReadAllAsync())
                {
                    status = change;
                    if (status.State != JobState.Running)
                        break;
                }
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
            {
                // still running after a minute: the assertion below says so
            }
        }
        Assert.True(status.State == JobState.Completed, $"silo A sees the job {status.State} ({status.Error}) after silo B's client sent its update");

        // Silo A serves the global model (compacted from the round's update, aggregated on either silo) from the database alone.
        var global = status.Rounds[0].GlobalUpdateSha256;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var served = "";
        using (var call = operatorOnA.DownloadGlobalAdapter(new DownloadGlobalAdapterRequest { JobId = "apart", ThroughRound = 1 }))
            await foreach (var chunk in call.ResponseStream.ReadAllAsync())
            {
                if (chunk.PartCase == AdapterChunk.PartOneofCase.Header)
                    served = chunk.Header.Sha256;
                else
                    hash.AppendData(chunk.Data.Span);
            }
        Assert.Equal(served, Convert.ToHexStringLower(hash.GetHashAndReset()));

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var stored = new NpgsqlCommand("SELECT count(*) FROM adapter_blobs WHERE sha256 = ANY(@hashes) AND NOT scratch", connection);
        var expected = new[] { accepted.Sha256, global, served }.Distinct().ToArray(); // one update stacked alone may be its own global
        stored.Parameters.AddWithValue("hashes", expected);
        Assert.Equal(expected.Length, (long)(await stored.ExecuteScalarAsync())!);
        await using var parts = new NpgsqlCommand("SELECT count(*) FROM adapter_blobs WHERE scratch", connection);
        Assert.Equal(0L, (long)(await parts.ExecuteScalarAsync())!); // the shards' parts, deleted once joined
        foreach (var silo in new[] { folder["a"], folder["b"] })
        {
            Assert.False(Directory.Exists(Path.Combine(silo, "adapters", "sha256")), $"{silo} keeps adapter files of its own");
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(silo, "adapters"), "*", SearchOption.AllDirectories)); // no upload or copy left behind
        }
    }

    /// <param name="adapterStore">Server:Cluster:AdapterStore (unset: the mode's default).</param>
    /// <param name="extra">More settings (the dashboard's, say) on top of the cluster's.</param>
    internal static Task<LocalServer> StartSiloAsync(string data, string database, Serilog.ILogger logger, string? adapterStore = null, IReadOnlyDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Server:Cluster:AdapterStore"] = adapterStore,
            ["Server:Cluster:Mode"] = "Postgres",
            ["Server:Cluster:ConnectionString"] = database,
            ["Server:Cluster:AdvertisedAddress"] = "127.0.0.1",
            ["Server:GatewayPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Server:SchedulerTickSeconds"] = "1",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
            settings[key] = value;
        return LocalServer.StartAsync(data, logger, settings: settings);
    }
}
